"""What the hostile-client (and fuzzing) tests share, for any Shipyard HTTP server run as a
real process (``shipyard serve``, ``shipyard server``): starting it with short read
deadlines, a 1 GB body sent raw, slow clients that dribble, deeply nested JSON."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shipyard.serve import find_free_port, wait_until_ready

__all__ = [
    "GB",
    "NESTED",
    "closed_by_server",
    "huge_body",
    "running",
    "send_until_answered",
    "slow_sockets",
]

GB = 1024**3
CHUNK = b"\0" * (256 * 1024)

NESTED = {
    "arrays": b'{"rows": ' + b"[" * 200_000 + b"]" * 200_000 + b"}",
    "objects": b'{"rows": [' + b'{"a":' * 100_000 + b"1" + b"}" * 100_000 + b"]}",
    "invocations": b'{"instances": [' + b"[" * 5_000 + b"]" * 5_000 + b"]}",
}
"""Deeply nested JSON bodies, by name: a parser that recurses per level would blow its stack."""


@contextmanager
def running(
    root: Path,
    *args: str,
    env: dict[str, str] | None = None,
    deadline: float | None = 1.0,
    ready: str = "/ping",
) -> Iterator[int]:
    """``shipyard ARGS --port P`` in ``root`` until the block ends; yields the port. With
    ``deadline``, clients have that many seconds to send a request's head and its body (so
    slow ones are cut off quickly). ``env`` replaces the environment's ``SHIPYARD_*``
    variables. Fails the test if the server died on the way."""
    port = find_free_port()
    full = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    if deadline is not None:
        full["SHIPYARD_SERVE_HEADER_TIMEOUT"] = full["SHIPYARD_SERVE_BODY_TIMEOUT"] = f"{deadline}"
    full.update(env or {})
    proc = subprocess.Popen(
        [sys.executable, "-m", "shipyard", *args, "--port", str(port)],
        cwd=root,
        env=full,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_ready(proc, f"http://127.0.0.1:{port}{ready}", timeout=180)
        yield port
        assert proc.poll() is None, "the server died"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def send_until_answered(sock: socket.socket, budget: int) -> tuple[bytes, int]:
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


def huge_body(port: int, path: str, framing: str, headers: str = "") -> tuple[bytes, int]:
    """POST a 1 GB body of zeros to ``path``, announced by ``content-length`` or sent
    ``chunked``; returns the start of the answer and the bytes sent before it came."""
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{headers}"
    head += (
        f"Content-Length: {GB}\r\n\r\n"
        if framing == "content-length"
        else "Transfer-Encoding: chunked\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode())
        if framing == "chunked":  # one endless chunk, announced as 1 GB
            sock.sendall(f"{GB:x}\r\n".encode())
        return send_until_answered(sock, GB)


def slow_sockets(port: int, n: int, head: bytes) -> list[socket.socket]:
    """``n`` connections that each sent ``head`` and then nothing."""
    socks = []
    for _ in range(n):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(head)
        socks.append(sock)
    return socks


def closed_by_server(sock: socket.socket, dribble: bytes, wait: float = 60) -> bool:
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
