"""Notifiers for alerts: the log, a signed webhook with retries, and on violation a command or
a pipeline run (``pipeline:NAME``, started as ``shipyard pipelines run NAME -p alert=JSON``).

The webhook body is the alerts as JSON; the ``X-Shipyard-Signature`` header is
``sha256=<hex HMAC-SHA256 of the body>`` under the secret read from the environment
variable the monitor names (as GitHub signs its webhooks), with ``X-Shipyard-Timestamp``.
A receiver recomputes the HMAC over the raw body and compares in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "PIPELINE_PREFIX",
    "SIGNATURE_HEADER",
    "post_webhook",
    "run_command",
    "sign",
    "start_pipeline",
]

log = logging.getLogger("shipyard.monitor")

SIGNATURE_HEADER = "X-Shipyard-Signature"
ATTEMPTS = 4
BACKOFF = 0.5  # seconds before the 2nd attempt; doubled each time after
TIMEOUT = 5.0
COMMAND_TIMEOUT = 600.0
_STARTED: list[subprocess.Popen[bytes]] = []  # runs started here: kept so they are reaped
PIPELINE_PREFIX = "pipeline:"
"""An on-violation action that names a pipeline to run, with the alerts as its ``alert``."""


def sign(body: bytes, secret: str) -> str:
    """The signature header's value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_webhook(
    url: str,
    payload: dict[str, Any],
    *,
    secret: str | None,
    attempts: int = ATTEMPTS,
    backoff: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """POST ``payload`` as JSON, retrying on a connection error or a 5xx/429 answer with
    exponential backoff. Never raises: returns ``{"status": "delivered"|"failed",
    "attempts", "error"?, "code"?}`` for the alert record."""
    import httpx

    backoff = BACKOFF if backoff is None else backoff
    body = json.dumps(payload, allow_nan=False, default=str).encode()
    headers = {"Content-Type": "application/json", "X-Shipyard-Timestamp": str(int(time.time()))}
    if secret:
        headers[SIGNATURE_HEADER] = sign(body, secret)
    error = ""
    for attempt in range(1, attempts + 1):
        try:
            response = httpx.post(url, content=body, headers=headers, timeout=TIMEOUT)
            if response.status_code < 300:
                return {"status": "delivered", "attempts": attempt, "code": response.status_code}
            error = f"HTTP {response.status_code}"
            if response.status_code < 500 and response.status_code != 429:
                break  # the receiver refused it; sending it again will not help
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        if attempt < attempts:
            sleep(backoff * 2 ** (attempt - 1))
    log.warning("Webhook %s failed after %d attempt(s): %s", url, attempt, error)
    return {"status": "failed", "attempts": attempt, "error": error}


def run_command(command: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Run the monitor's on-violation command through the shell with the alerts as JSON in
    ``SHIPYARD_ALERT``; returns its exit code (never raises)."""
    env = {**os.environ, "SHIPYARD_ALERT": json.dumps(payload, allow_nan=False, default=str)}
    try:
        done = subprocess.run(
            command, shell=True, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"status": "failed", "error": str(exc)}
    status = "ok" if done.returncode == 0 else "failed"
    return {"status": status, "exit_code": done.returncode, "stderr": done.stderr[-500:]}


def start_pipeline(
    root: Path, pipeline: str, monitor: str, payload: dict[str, Any]
) -> dict[str, Any]:
    """Start a run of ``pipeline`` in a process of its own, with the alerts as its ``alert``
    parameter and ``monitor:NAME`` as its trigger; its output goes to
    ``.shipyard/logs/pipelines/``. Never raises: returns what happened, for the alert record."""
    import sys
    from datetime import UTC, datetime

    alert = json.dumps(payload, allow_nan=False, default=str)
    command = [
        sys.executable, "-m", "shipyard", "-C", str(root), "pipelines", "run", pipeline,
        "--trigger", f"monitor:{monitor}", "-p", f"alert={alert}",
    ]  # fmt: skip
    folder = root / ".shipyard" / "logs" / "pipelines"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        log_file = folder / f"{pipeline}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{monitor}.log"
        with log_file.open("ab") as out:
            child = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
    except OSError as exc:
        return {"status": "failed", "pipeline": pipeline, "error": str(exc)}
    _STARTED[:] = [p for p in _STARTED if p.poll() is None] + [child]
    return {"status": "started", "pipeline": pipeline, "pid": child.pid, "log": str(log_file)}
