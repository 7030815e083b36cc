"""``serve_model`` in a real process, answering real HTTP on loopback."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from tests.e2e.cli import shipyard

from shipyard.project import Project
from shipyard.serve import find_free_port, wait_until_ready

pytestmark = pytest.mark.e2e


def test_serve_model_answers_http_on_loopback(served_project: Project) -> None:
    port = find_free_port()
    command = [
        sys.executable,
        "-c",
        "import sys; from shipyard.project import open_project; "
        "from shipyard.serve import serve_model; "
        "serve_model(open_project(sys.argv[1], face='serve'), 'm@prod', port=int(sys.argv[2]))",
        str(served_project.root),
        str(port),
    ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(proc, f"{base}/ping", timeout=180)  # a loaded CI box is slow to import
        with httpx.Client(base_url=base, timeout=5.0) as client:
            row = {"amount": 120.5, "calls": 3, "country": "fr", "roaming": True}
            response = client.post("/v1/predict", json={"rows": [row]})
            assert response.status_code == 200
            assert response.headers["x-shipyard-model"] == "m:1"
            assert 0.0 <= response.json()["predictions"][0]["score"] <= 1.0

            response = client.post(
                "/invocations", content="120.5,3,fr,true\n", headers={"content-type": "text/csv"}
            )
            assert response.status_code == 200

            response = client.post("/v1/predict", json={"rows": [{"amount": 1}]})
            assert response.status_code == 422
            assert response.json()["error"] == "InvalidInput"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stdout.close()  # type: ignore[union-attr]

    events = served_project.catalog.list_events(limit=20, object_type="model")
    starts = [e for e in events if e.action == "serve.start"]
    assert starts and starts[0].object_id == "m:1"
    assert starts[0].details["port"] == port
    stops = [e for e in events if e.action == "serve.stop"]  # after the graceful shutdown
    assert stops and stops[0].id > starts[0].id and stops[0].details["port"] == port


def test_cli_serve_says_serving_once_ready_and_stops_quietly(served_project: Project) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SHIPYARD_HOME"}
    env.update(COLUMNS="200", SHIPYARD_SERVE_HEADER_TIMEOUT="1")
    command = [sys.executable, "-m", "shipyard", "-C", str(served_project.root), "serve", "m@prod"]
    proc = subprocess.Popen(
        [*command, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.fullmatch(
            r"Serving m@prod on (http://127\.0\.0\.1:(\d+)) \(Ctrl-C to stop\)\n", line
        )
        assert match, line
        base, port = match.group(1), int(match.group(2))
        # Ready when it says so: the first request is answered, no retries.
        assert httpx.get(f"{base}/ping", timeout=5).status_code == 200

        # Headers sent a byte at a time are cut off after SHIPYARD_SERVE_HEADER_TIMEOUT.
        with socket.create_connection(("127.0.0.1", port)) as slow:
            slow.settimeout(0.1)
            start = time.monotonic()
            for byte in b"GET /ping HTTP/1.1\r\nHost: x\r\n" + b"X: " + b"a" * 100:
                try:
                    slow.sendall(bytes([byte]))
                    if slow.recv(1024) == b"":
                        break
                except TimeoutError:
                    continue
                except (BrokenPipeError, ConnectionResetError):
                    break
            assert time.monotonic() - start < 3.0

        second = shipyard(served_project.root, "serve", "m@prod", "--port", str(port), check=False)
        assert second.returncode == 1, second.stderr
        assert f"Port {port} on 127.0.0.1 is already in use" in second.stderr
        assert "Serving" not in second.stdout and "Traceback" not in second.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert "leaked" not in err and "Traceback" not in err, err


@pytest.mark.parametrize("port", ["70000", "-1"])
def test_cli_serve_refuses_a_port_out_of_range(served_project: Project, port: str) -> None:
    proc = shipyard(served_project.root, "serve", "m@prod", "--port", port, check=False)
    assert proc.returncode == 1
    assert "from 1 to 65535, or 0 for any free port" in proc.stderr
    assert f"Got {port} instead" in proc.stderr
    assert "Serving" not in proc.stdout and "Traceback" not in proc.stderr


def test_cli_serve_refuses_an_unknown_model_before_listening(served_project: Project) -> None:
    port = find_free_port()
    proc = shipyard(served_project.root, "serve", "nope@prod", "--port", str(port), check=False)
    assert proc.returncode == 1
    assert "nope" in proc.stderr and "NotFound" in proc.stderr
    assert "Serving" not in proc.stdout and "Traceback" not in proc.stderr
