"""The REST API's ASGI layers around the FastAPI app: body limits and the audit of calls.

Outermost to innermost: :class:`~shipyard.security.AuthGuard` (a token, its role and
environment, denials audited and rate-limited), :class:`AuditCalls` (every call that is not a
read is recorded with its outcome), :class:`BodyLimit` (413 past the limit), then FastAPI.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio.to_thread
import orjson

from shipyard.entities import Actor
from shipyard.errors import ShipyardError
from shipyard.serve import PayloadTooLarge
from shipyard.server._errors import error_body

__all__ = ["AuditCalls", "BodyLimit", "client_address"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Route = Callable[[Scope], tuple[str, str] | None]
Record = Callable[[str, Actor, str, dict[str, Any]], None]

log = logging.getLogger("shipyard.server")

_KEPT_ERROR_BYTES = 4096
_READING = frozenset({"GET", "HEAD", "OPTIONS"})


def client_address(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


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


class AuditCalls:
    """Records every call that may change something (a method other than GET, HEAD or
    OPTIONS, on a route whose action is not ``read``) in the audit trail once answered:
    who (the token's name), from which address, the route, the status and the outcome
    (``ok`` or the error kind), refusals included.

    Args:
        app: The app to watch.
        route: ``scope -> (action, route template)``, None for a path no route serves.
        record: Writes one event ``(action, actor, object_id, details)``; run in a worker
            thread. A failure is logged: the call has been answered already.
    """

    def __init__(self, app: ASGIApp, route: Route, record: Record) -> None:
        self.app = app
        self.route = route
        self.record = record

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        changes = scope["type"] == "http" and scope["method"] not in _READING
        found = self.route(scope) if changes else None
        if found is None or found[0] == "read":
            await self.app(scope, receive, send)
            return
        action, template = found
        seen: dict[str, Any] = {"status": 500, "body": b""}

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
            elif seen["status"] >= 400 and len(seen["body"]) < _KEPT_ERROR_BYTES:
                seen["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            await self._record(scope, action, template, seen)

    async def _record(self, scope: Scope, action: str, template: str, seen: dict[str, Any]) -> None:
        token = (scope.get("state") or {}).get("token")
        actor = Actor(token.name if token else "anonymous", "api", client_address(scope))
        status = int(seen["status"])
        details = {
            "method": scope["method"],
            "path": scope["path"],
            "action": action,
            "status": status,
            "outcome": "ok" if status < 400 else _kind(seen["body"]),
        }
        where = f"{scope['method']} {template}"
        try:
            await anyio.to_thread.run_sync(self.record, "api.call", actor, where, details)
        except Exception:  # the call was answered; its trace stays in the log
            log.exception(
                "Could not audit %s %s (status %s)", scope["method"], scope["path"], status
            )


def _kind(body: bytes) -> str:
    try:
        return str(orjson.loads(body).get("error", "error"))
    except (orjson.JSONDecodeError, AttributeError):
        return "error"
