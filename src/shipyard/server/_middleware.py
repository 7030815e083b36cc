"""The REST API's ASGI layers around the FastAPI app: body limits (the audit of calls is
:class:`shipyard.security.AuditCalls`, shared with the inference server).

Outermost to innermost: :class:`~shipyard.security.AuthGuard` (a token, its role and
environment, denials audited and rate-limited), ``AuditCalls`` (every call that is not a
read is recorded with its outcome), :class:`BodyLimit` (413 past the limit), then FastAPI.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from shipyard.errors import ShipyardError
from shipyard.security.calls import client_address
from shipyard.serve import PayloadTooLarge
from shipyard.server._errors import error_body

__all__ = ["BodyLimit", "client_address"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_READING = frozenset({"GET", "HEAD", "OPTIONS"})


async def _answer(send: Send, error: ShipyardError) -> None:
    body = error_body(error)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": error.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuses a request body over ``limit`` bytes with 413, before the app reads any of it.

    A declared ``Content-Length`` over the limit is refused at once; a body without one
    (chunked) is read up to the limit and then handed to the app whole.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _READING:
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _answer(send, self._too_large(int(declared)))
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # nobody is left to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await _answer(send, self._too_large(size))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    def _too_large(self, size: int) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"The request body has {size:,} bytes or more; this server accepts at most "
            f"{self.limit:,} (SHIPYARD_SERVER_MAX_BODY_BYTES).",
            details={"bytes": size, "max_body_bytes": self.limit},
        )
