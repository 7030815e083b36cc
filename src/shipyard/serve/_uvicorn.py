"""uvicorn, adapted: read deadlines on its HTTP protocols, and a hook for when it is ready.

uvicorn closes a keep-alive connection that stays idle, but it has no deadline for reading a
request: a client that sends its headers, or its body, a byte at a time keeps a connection
(and memory) forever, because every byte cancels the idle timer. These subclasses add two
timers, armed only while a request is incomplete, so a request that arrives in one piece (the
usual case) costs no timer at all:

- the *head* deadline runs from the moment a connection opens, or from the first byte of a
  later request on a kept-alive connection, until the request line and headers are parsed;
- the *body* deadline runs from the end of the headers until the last byte of the body.

A connection that misses either is closed; the app sees ``http.disconnect``. So is one whose
head passes ``max_head_bytes``: h11 has such a limit, httptools has none.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import socket
from collections.abc import Callable
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["MAX_HEAD_BYTES", "ReadyServer", "deadline_protocol", "uvicorn_config"]

MAX_HEAD_BYTES = 64 * 1024

log = logging.getLogger("shipyard.serve")


def deadline_protocol(
    http: str, *, head_timeout: float, body_timeout: float, max_head_bytes: int = MAX_HEAD_BYTES
) -> type[asyncio.Protocol]:
    """uvicorn's ``http`` protocol class (``"httptools"`` or ``"h11"``) with read deadlines.

    Args:
        http: Which uvicorn parser to build on.
        head_timeout: Seconds a client has to send a request line and its headers.
        body_timeout: Seconds a client has to send a body once its headers are in.
        max_head_bytes: Largest request line plus headers accepted.
    """
    base: type[Any] = HttpToolsProtocol if http == "httptools" else H11Protocol

    class DeadlineProtocol(base):
        _timer: asyncio.TimerHandle | None = None
        _part = ""  # what the running timer waits for: "headers", "body" or nothing
        _head_bytes = 0  # of the request head read so far

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            self._arm(head_timeout, "headers")

        def data_received(self, data: bytes) -> None:
            cycle = self.cycle
            super().data_received(data)
            current = self.cycle
            if current is not cycle:  # the head of a new request was parsed
                self._head_bytes = 0
                self._disarm()
                if current.more_body:
                    self._arm(body_timeout, "body")
            elif cycle is not None and cycle.more_body:
                pass  # more of a body: its timer keeps running
            elif cycle is not None and not cycle.response_complete:
                self._disarm()  # the whole request is in; the app is answering it
            else:  # all of ``data`` is part of a head still incomplete
                if self._part != "headers":
                    self._arm(head_timeout, "headers")  # the first bytes of the next request
                self._head_bytes += len(data)
                if self._head_bytes > max_head_bytes and not self.transport.is_closing():
                    log.info("Closed a connection whose headers passed %d bytes.", max_head_bytes)
                    self.transport.close()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self, delay: float, part: str) -> None:
            self._disarm()
            self._timer = self.loop.call_later(delay, self._expire, delay, part)
            self._part = part

        def _disarm(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
                self._part = ""

        def _expire(self, delay: float, part: str) -> None:
            self._timer = None
            self._part = ""
            if not self.transport.is_closing():
                log.info("Closed a connection that sent no complete %s in %g s.", part, delay)
                self.transport.close()

    return DeadlineProtocol


class ReadyServer(uvicorn.Server):
    """A uvicorn server that calls ``on_ready`` once it listens and the app has started, and
    ``on_stop`` once it has drained its connections and the app has shut down (before
    uvicorn raises the signal that stopped it again, which may end the process)."""

    def __init__(
        self,
        config: uvicorn.Config,
        on_ready: Callable[[], None] | None,
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(config)
        self._on_ready = on_ready
        self._on_stop = on_stop

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets)
        if self._on_stop is not None:
            self._on_stop()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and not self.should_exit and self._on_ready is not None:
            self._on_ready()


def uvicorn_config(
    app: Any, *, head_timeout: float, body_timeout: float, log_level: str
) -> uvicorn.Config:
    """How Shipyard's servers run uvicorn: uvloop and httptools when installed, the header and
    body deadlines, a bounded request head, lifespan on, no access log, no server header, one
    process."""
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return uvicorn.Config(
        app,
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        http=deadline_protocol(http, head_timeout=head_timeout, body_timeout=body_timeout),
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        lifespan="on",
        log_level=log_level,
        access_log=False,
        server_header=False,
        workers=None,
    )
