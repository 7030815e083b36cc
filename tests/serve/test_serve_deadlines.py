"""Read deadlines: a client that dribbles its headers or its body is disconnected in time.

uvicorn runs in a thread of the test process on loopback, with a tiny app, so these take
about a second each and need no model.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from shipyard.serve import bind_socket
from shipyard.serve._uvicorn import ReadyServer, deadline_protocol

HEAD_TIMEOUT = 0.6
BODY_TIMEOUT = 0.6


async def echo_length(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the whole body and answers with its length."""
    if scope["type"] != "http":
        return
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = str(size).encode()
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(params=["httptools", "h11"])
def port(request: pytest.FixtureRequest) -> Iterator[int]:
    protocol = deadline_protocol(
        request.param, head_timeout=HEAD_TIMEOUT, body_timeout=BODY_TIMEOUT
    )
    config = uvicorn.Config(
        echo_length, http=protocol, loop="asyncio", lifespan="off", log_level="warning"
    )
    ready = threading.Event()
    server = ReadyServer(config, on_ready=ready.set)
    sock = bind_socket("127.0.0.1", 0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    assert ready.wait(10)
    yield int(sock.getsockname()[1])
    server.should_exit = True
    thread.join(10)


def dribble(port: int, data: bytes, *, every: float = 0.05) -> float | None:
    """Send ``data`` a byte at a time; seconds until the server closed, or None if it never did."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(every)
        for i in range(len(data)):
            try:
                sock.sendall(data[i : i + 1])
                if sock.recv(1024) == b"":
                    return time.monotonic() - start
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - start
    return None


def request(sock: socket.socket, data: bytes) -> bytes:
    """Send ``data`` and read one whole response."""
    sock.sendall(data)
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(4096)
    head, _, body = response.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    while len(body) < length:
        body += sock.recv(4096)
    return head + b"\r\n\r\n" + body


def test_headers_sent_a_byte_at_a_time_are_cut_off(port: int) -> None:
    head = b"GET /ping HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 200 + b"\r\n\r\n"
    closed = dribble(port, head)
    assert closed is not None, "the server waited for the whole slow head"
    assert HEAD_TIMEOUT <= closed < HEAD_TIMEOUT + 1.0


def test_a_silent_connection_is_cut_off(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(HEAD_TIMEOUT + 2)
        start = time.monotonic()
        assert sock.recv(1024) == b""
        assert time.monotonic() - start < HEAD_TIMEOUT + 1.0


def test_a_body_sent_a_byte_at_a_time_is_cut_off(port: int) -> None:
    head = b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 300\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(head)  # the head in one piece: only the body deadline applies
        sock.settimeout(0.05)
        start = time.monotonic()
        closed = None
        for _ in range(300):
            try:
                sock.sendall(b"x")
                if sock.recv(1024) == b"":
                    closed = time.monotonic() - start
                    break
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                closed = time.monotonic() - start
                break
    assert closed is not None, "the server waited for the whole slow body"
    assert BODY_TIMEOUT <= closed + 0.05 < BODY_TIMEOUT + 1.0


def test_timely_requests_on_a_kept_alive_connection_are_answered(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(5)
        # Pauses shorter than the deadlines, between and inside requests, are fine.
        sock.sendall(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab")
        time.sleep(HEAD_TIMEOUT / 3)
        assert request(sock, b"cd").endswith(b"\r\n\r\n4")
        time.sleep(HEAD_TIMEOUT / 3)
        sock.sendall(b"GET /y HTTP/1.1\r\n")
        time.sleep(HEAD_TIMEOUT / 3)
        assert request(sock, b"Host: x\r\n\r\n").startswith(b"HTTP/1.1 200")


def test_an_endless_head_is_cut_off(port: int) -> None:
    """10 MB of headers, sent fast: closed soon after MAX_HEAD_BYTES (plus socket buffers)."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(5)
        with pytest.raises((BrokenPipeError, ConnectionResetError)):
            sock.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n")
            for i in range(1000):
                sock.sendall(b"X-%d: %s\r\n" % (i, b"a" * 10_000))
