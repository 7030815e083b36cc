"""The webhook: signed with HMAC-SHA256, retried with backoff, a failure recorded."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest

from shipyard.monitor._notify import SIGNATURE_HEADER, post_webhook, run_command

SECRET = "s3cret"


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []
    fail_first = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        valid = hmac.compare_digest(expected, self.headers.get(SIGNATURE_HEADER, ""))
        if type(self).fail_first > 0:
            type(self).fail_first -= 1
            self.send_response(503)
        else:
            type(self).received.append({"valid": valid, "body": json.loads(body)})
            self.send_response(200 if valid else 401)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    _Receiver.received, _Receiver.fail_first = [], 0
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def test_the_receiver_verifies_the_signature(receiver: str) -> None:
    outcome = post_webhook(receiver, {"alerts": [{"id": 1}]}, secret=SECRET, sleep=lambda _: None)
    assert outcome["status"] == "delivered"
    assert _Receiver.received == [{"valid": True, "body": {"alerts": [{"id": 1}]}}]


def test_a_wrong_secret_is_refused_and_not_retried(receiver: str) -> None:
    waits: list[float] = []
    outcome = post_webhook(receiver, {"alerts": []}, secret="wrong", sleep=waits.append)
    assert (outcome["status"], outcome["attempts"], waits) == ("failed", 1, [])
    assert _Receiver.received[0]["valid"] is False


def test_a_failing_receiver_is_retried_with_backoff(receiver: str) -> None:
    _Receiver.fail_first = 2
    waits: list[float] = []
    outcome = post_webhook(receiver, {"alerts": []}, secret=SECRET, sleep=waits.append)
    assert (outcome["status"], outcome["attempts"]) == ("delivered", 3)
    assert waits == [0.5, 1.0]


def test_a_webhook_that_is_down_fails_after_the_retries() -> None:
    waits: list[float] = []
    outcome = post_webhook("http://127.0.0.1:9/hook", {}, secret=SECRET, sleep=waits.append)
    assert outcome["status"] == "failed" and outcome["attempts"] == 4
    assert len(waits) == 3 and "Connect" in outcome["error"]


def test_the_command_gets_the_alert_in_its_environment(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "alert.json"
    result = run_command(f'printf "%s" "$SHIPYARD_ALERT" > {out}', {"monitor": "m"})
    assert result["status"] == "ok"
    assert json.loads(out.read_text()) == {"monitor": "m"}
