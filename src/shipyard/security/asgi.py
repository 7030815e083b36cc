"""Bearer-token checks in front of any ASGI app: the inference server now, the REST API later.

Pure ASGI (no framework), so it adds one dict lookup and a cached token check to a request.
Open paths pass untouched; every other path needs a token whose role and environment allow
the route's action per :data:`shipyard.security.roles.MATRIX`. A denial answers 401 (no or a
bad token) or 403 (a token that may not), is audited with the client's address, and counts
as a failed attempt: past ``max_failures`` in a minute, the address gets 429 until it cools.

A web UI behind the guard (:class:`BrowserLogin`) signs people in once: its pages read the
token from an HttpOnly cookie instead of a header, and a refused page request is answered by
the UI (a redirect to its login page, an HTML error) rather than with JSON.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any

import anyio.to_thread
import orjson

from shipyard.entities import Actor
from shipyard.errors import PermissionDenied, ShipyardError, Unauthenticated
from shipyard.security._ratelimit import FailureLimiter
from shipyard.security.tokens import Authorizer

__all__ = ["AuthGuard", "BrowserLogin", "TooManyAttempts"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
AuditSink = Callable[[str, Actor, dict[str, Any]], None]
ActionOf = Callable[[Scope], str | None]
Refuse = Callable[[Scope, Receive, Send, ShipyardError], Awaitable[None]]

log = logging.getLogger("shipyard.security")


class TooManyAttempts(ShipyardError):
    """Too many failed authentication attempts from one address; wait and try again."""

    status_code = 429


@dataclass(frozen=True)
class BrowserLogin:
    """How a web UI behind the guard signs its users in.

    Args:
        cookie: The cookie that carries the token on the UI's pages (HttpOnly, SameSite=Strict,
            set by the UI's login page).
        api_prefix: Paths under it are the API's: the cookie is never read there (an API
            caller sends ``Authorization``), so no other site can make a browser call the API.
        open_prefixes: Paths served without a token: the login page, static assets.
        refuse: Answers a page request the guard refused (401, 403, 429), in place of JSON.
    """

    cookie: str
    api_prefix: str
    open_prefixes: tuple[str, ...]
    refuse: Refuse

    def is_page(self, path: str) -> bool:
        return path != self.api_prefix and not path.startswith(self.api_prefix + "/")

    def is_open(self, path: str) -> bool:
        return path.startswith(self.open_prefixes)


class AuthGuard:
    """Wraps ``app`` so that every path but ``open_paths`` needs an authorized bearer token.

    Args:
        app: The ASGI app to guard.
        authorizer: Checks tokens (see :class:`~shipyard.security.tokens.Authorizer`).
        env: The environment this server acts in; tokens scoped elsewhere are refused.
        routes: Path -> action (a key of the role matrix); paths not listed need
            ``default_action``, so a route added later is never open by mistake.
        open_paths: Paths served without a token (health checks, the OpenAPI document).
        audit: Called (in a worker thread) with ``(action, actor, details)`` for each denial.
        max_failures: Failed attempts per client address per minute before 429.
        face: The face recorded in audit events (``serve``, ``api``).
        action_of: Asked first for a request's action (an app that routes by method and
            path templates knows it exactly); None (or its None) falls back to ``routes``.
        browser: A web UI's pages behind this guard (None: there is none). A page request
            without any token is sent to its login page without counting as a failure.
    """

    def __init__(
        self,
        app: ASGIApp,
        authorizer: Authorizer,
        *,
        env: str,
        routes: Mapping[str, str],
        open_paths: frozenset[str],
        audit: AuditSink | None = None,
        max_failures: int = 10,
        default_action: str = "read",
        face: str = "serve",
        action_of: ActionOf | None = None,
        browser: BrowserLogin | None = None,
    ) -> None:
        self.app = app
        self.authorizer = authorizer
        self.env = env
        self.routes = dict(routes)
        self.open_paths = open_paths
        self.audit = audit
        self.limiter = FailureLimiter(max_failures)
        self.default_action = default_action
        self.face = face
        self.action_of = action_of
        self.browser = browser

    def _pattern_action(self, path: str) -> str:
        """The action of a route with a path parameter (``/v1/features/*/push``)."""
        for pattern, action in self.routes.items():
            if "*" in pattern and fnmatch.fnmatchcase(path, pattern):
                return action
        return self.default_action

    def __getattr__(self, name: str) -> Any:
        # The guarded app's attributes (``loaded``, limits) stay reachable through the guard.
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.open_paths:
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        browser = self.browser
        page = browser is not None and browser.is_page(path)
        if page and browser is not None and browser.is_open(path):
            await self.app(scope, receive, send)
            return
        action = (self.action_of and self.action_of(scope)) or (
            self.routes.get(path) or self._pattern_action(path)
        )
        client = scope.get("client")
        address = str(client[0]) if client else "-"
        wait = self.limiter.retry_after(address)
        if wait:
            error = TooManyAttempts(
                f"Too many failed attempts from {address}; try again in {wait:.0f} s.",
                details={"retry_after": round(wait)},
            )
            await self._refuse(scope, receive, send, error, page, wait=wait)
            return
        token = _bearer(scope)
        if token is None and page and browser is not None:
            token = _cookie(scope, browser.cookie)
        try:
            record = self.authorizer.authorize(token, action, self.env)
        except (Unauthenticated, PermissionDenied) as exc:
            if not (page and token is None):  # a page before login is no attempt at all
                blocked = self.limiter.fail(address)
                await self._audit_denial(exc, address, path, action, blocked)
            await self._refuse(scope, receive, send, exc, page)
            return
        scope.setdefault("state", {})["token"] = record
        await self.app(scope, receive, send)

    async def _refuse(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        error: ShipyardError,
        page: bool,
        *,
        wait: float = 0.0,
    ) -> None:
        if page and self.browser is not None:
            await self.browser.refuse(scope, receive, send, error)
            return
        headers = [(b"www-authenticate", b"Bearer")] if error.status_code == 401 else []
        if wait:
            headers.append((b"retry-after", str(max(1, round(wait))).encode()))
        await _answer(send, error, headers)

    async def _audit_denial(
        self, exc: ShipyardError, address: str, path: str, action: str, blocked: bool
    ) -> None:
        if self.audit is None:
            return
        name = exc.details.get("token", "anonymous")
        details = {
            "route": path,
            "action": action,
            "env": self.env,
            "status": exc.status_code,
            "reason": exc.kind,
            "blocked": blocked,
        }
        actor = Actor(str(name), self.face, address)
        try:
            await anyio.to_thread.run_sync(self.audit, "auth.denied", actor, details)
        except ShipyardError:
            # The denial stands even when the audit store is down; the log keeps the trace.
            log.exception("Could not audit a denied request to %s from %s", path, address)


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope["headers"]:
        if key == b"cookie":
            try:
                jar = SimpleCookie(value.decode("latin-1"))
            except CookieError:
                return None
            if name in jar:
                return jar[name].value or None
    return None


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else None
    return None


async def _answer(send: Send, error: ShipyardError, headers: list[tuple[bytes, bytes]]) -> None:
    body = orjson.dumps(error.to_dict(), default=str)
    await send(
        {
            "type": "http.response.start",
            "status": error.status_code,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
