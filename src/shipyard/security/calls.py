"""The audit of calls that may change something, for any ASGI face (the REST API, the
inference server): one ``FACE.call`` event per call once answered, with who, from which
address, the route, the status and the outcome, refusals included."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio.to_thread
import orjson

from shipyard.entities import Actor

__all__ = ["AuditCalls", "client_address"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Route = Callable[[Scope], tuple[str, str] | None]
Record = Callable[[str, Actor, str, dict[str, Any]], None]

log = logging.getLogger("shipyard.security")

_KEPT_ERROR_BYTES = 4096
_READING = frozenset({"GET", "HEAD", "OPTIONS"})


def client_address(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


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
        face: The face recorded (``api``, ``serve``); the event's action is ``FACE.call``.
    """

    def __init__(self, app: ASGIApp, route: Route, record: Record, *, face: str = "api") -> None:
        self.app = app
        self.route = route
        self.record = record
        self.face = face

    def __getattr__(self, name: str) -> Any:
        # The watched app's attributes (``loaded``, limits) stay reachable, as through a guard.
        return getattr(self.app, name)

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
        actor = Actor(token.name if token else "anonymous", self.face, client_address(scope))
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
            await anyio.to_thread.run_sync(self.record, f"{self.face}.call", actor, where, details)
        except Exception:  # the call was answered; its trace stays in the log
            log.exception(
                "Could not audit %s %s (status %s)", scope["method"], scope["path"], status
            )


def _kind(body: bytes) -> str:
    try:
        return str(orjson.loads(body).get("error", "error"))
    except (orjson.JSONDecodeError, AttributeError):
        return "error"
