"""Hostile clients against a real ``shipyard serve`` process on loopback: a 1 GB body (with a
Content-Length, and chunked), slow clients (slowloris, on the head and on the body), deeply
nested JSON. Each is refused cleanly, early, and the server keeps answering everyone else.
A swapped pickle in a bundle is refused before anything is unpickled.

The server runs with 1-second read deadlines (``SHIPYARD_SERVE_HEADER_TIMEOUT`` /
``..._BODY_TIMEOUT``) so the slow clients are cut off quickly; the 10 MB body limit is the
default.
"""

from __future__ import annotations

import os
import pickle
import select
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shipyard.project import Project
from shipyard.serve import find_free_port, wait_until_ready
from tests.e2e.cli import shipyard

pytestmark = pytest.mark.e2e

GB = 1024**3
LIMIT = 10 * 1024 * 1024  # serve_max_body_bytes' default
CHUNK = b"\0" * (256 * 1024)
ROW = {"amount": 120.5, "calls": 3, "country": "fr", "roaming": True}


@pytest.fixture(scope="module")
def port(served_project: Project) -> Iterator[int]:
    port = find_free_port()
    env = {**os.environ, "SHIPYARD_SERVE_HEADER_TIMEOUT": "1", "SHIPYARD_SERVE_BODY_TIMEOUT": "1"}
    env.pop("SHIPYARD_HOME", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "shipyard", "serve", "m@prod", "--port", str(port)],
        cwd=served_project.root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_ready(proc, f"http://127.0.0.1:{port}/ping", timeout=180)
        yield port
        assert proc.poll() is None, "the server died"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _still_serves(port: int) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        assert client.get("/ping").status_code == 200
        answer = client.post("/v1/predict", json={"rows": [ROW]})
        assert answer.status_code == 200, answer.text


def _send_until_answered(sock: socket.socket, budget: int) -> tuple[bytes, int]:
    """Send zero bytes in chunks until the server answers (or closes); returns the start of
    its answer and how many body bytes went out."""
    sent = 0
    while sent < budget:
        readable, _, _ = select.select([sock], [], [], 0)
        if readable:
            break
        try:
            sock.sendall(CHUNK)
        except (BrokenPipeError, ConnectionResetError):
            break
        sent += len(CHUNK)
    try:
        return sock.recv(4096), sent
    except ConnectionResetError:
        return b"", sent


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_1_gb_body_is_refused_early_with_413(port: int, framing: str) -> None:
    head = "POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    head += (
        f"Content-Length: {GB}\r\n\r\n"
        if framing == "content-length"
        else ("Transfer-Encoding: chunked\r\n\r\n")
    )
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode())
        if framing == "chunked":  # one endless chunk, announced as 1 GB
            sock.sendall(f"{GB:x}\r\n".encode())
        answer, sent = _send_until_answered(sock, GB)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 8 * LIMIT  # the server stopped reading long before 1 GB
    _still_serves(port)


def _slow_sockets(port: int, n: int, head: bytes) -> list[socket.socket]:
    socks = []
    for _ in range(n):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(head)
        socks.append(sock)
    return socks


def _closed_by_server(sock: socket.socket, dribble: bytes, wait: float = 60) -> bool:
    """Send a byte now and then until the server closes the connection (or ``wait`` ends)."""
    end = time.monotonic() + wait
    while time.monotonic() < end:
        readable, _, _ = select.select([sock], [], [], 0.2)
        if readable:
            try:
                data = sock.recv(4096)
            except ConnectionResetError:
                return True
            if data == b"" or data.startswith(b"HTTP/1.1 4"):
                return True
        try:
            sock.sendall(dribble)
        except (BrokenPipeError, ConnectionResetError):
            return True
    return False


@pytest.mark.parametrize(
    ("part", "head"),
    [
        ("head", b"POST /v1/predict HTTP/1.1\r\nHost: x\r\n"),
        ("body", b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{"),
    ],
)
def test_slow_clients_are_cut_off_and_others_still_served(
    port: int, part: str, head: bytes
) -> None:
    socks = _slow_sockets(port, 64, head)
    try:
        _still_serves(port)  # 64 slow connections open: everyone else is still answered
        dribble = b"X-a: b\r\n" if part == "head" else b" "
        assert all(_closed_by_server(sock, dribble) for sock in socks)
    finally:
        for sock in socks:
            sock.close()
    _still_serves(port)


@pytest.mark.parametrize(
    "body",
    [
        b'{"rows": ' + b"[" * 200_000 + b"]" * 200_000 + b"}",
        b'{"rows": [' + b'{"a":' * 100_000 + b"1" + b"}" * 100_000 + b"]}",
        b'{"instances": [' + b"[" * 5_000 + b"]" * 5_000 + b"]}",
    ],
    ids=["arrays", "objects", "invocations"],
)
def test_deeply_nested_json_is_a_4xx(port: int, body: bytes) -> None:
    path = "/invocations" if body.startswith(b'{"instances"') else "/v1/predict"
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        answer = client.post(path, content=body, headers={"content-type": "application/json"})
    assert answer.status_code in (400, 422), answer.text[:300]
    assert answer.json()["error"]
    _still_serves(port)


class _Planted:
    """Unpickling this would create the marker file: proof that something was unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def test_a_swapped_pickle_is_refused_before_it_is_unpickled(
    served_project: Project, tmp_path: Path
) -> None:
    root = tmp_path / "copy"
    shutil.copytree(served_project.root, root)
    (bundle,) = (root / ".shipyard" / "artifacts" / "models" / "m").iterdir()
    marker = tmp_path / "unpickled"
    (bundle / "model.pkl").write_bytes(pickle.dumps(_Planted(marker)))
    for args in (
        ("serve", "m@prod", "--port", "0"),
        ("batch", "m@prod", "--input", "d", "--output", "scored"),
    ):
        proc = shipyard(root, *args, check=False)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "does not match its manifest" in " ".join((proc.stdout + proc.stderr).split())
        assert "Traceback" not in proc.stderr
    assert not marker.exists()
