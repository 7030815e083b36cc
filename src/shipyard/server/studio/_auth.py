"""Who is looking: the token a Studio page acts as, what its role may do, and the CSRF check.

The token arrives once, on the login page, and lives in an HttpOnly, SameSite=Strict cookie
that the auth guard reads on page paths only (never under ``/api/v1``). Every POST carries a
CSRF token, an HMAC of the session's token that a page embeds and no other site can compute.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import Request

from shipyard.entities import Actor, ApiToken
from shipyard.errors import PermissionDenied
from shipyard.project import Project
from shipyard.security.roles import ALL_ENVIRONMENTS, ROLES, allowed

__all__ = [
    "COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "Viewer",
    "check_csrf",
    "check_origin",
    "csrf_token",
    "roles_for",
    "safe_next",
    "viewer",
    "viewer_of",
]

COOKIE = "shipyard_studio"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
_CSRF_KEY = b"shipyard-studio-csrf-v1"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token(token: str) -> str:
    """The CSRF token of a session: only someone holding the session's token can make it."""
    return hmac.new(_CSRF_KEY, token.encode(), hashlib.sha256).hexdigest()


def roles_for(action: str) -> list[str]:
    """The roles that may do ``action``, least privileged first."""
    return [r for r in ROLES if allowed(r, action)]


@dataclass(frozen=True)
class Viewer:
    """The person behind a page: their token's record, the project acting as them (face
    ``ui``), and the environment this server acts in."""

    token: ApiToken
    project: Project
    env: str
    csrf: str

    def can(self, action: str, env: str | None = None) -> bool:
        """Whether the token's role may do ``action`` (in ``env``, when one is named)."""
        if not allowed(self.token.role, action):
            return False
        return env is None or self.token.env in (env, ALL_ENVIRONMENTS)

    def require(self, action: str, env: str | None = None) -> None:
        """Refuse unless :meth:`can`; the message names the roles (or scope) needed.

        Raises:
            PermissionDenied: The role or the token's environment does not allow it.
        """
        if not allowed(self.token.role, action):
            needed = " or ".join(roles_for(action))
            raise PermissionDenied(
                f"To {action} you need the role {needed}; the token '{self.token.name}' has "
                f"role {self.token.role}. Ask an admin for a token with one of those roles.",
                details={"action": action, "role": self.token.role, "roles": roles_for(action)},
            )
        if env is not None and not self.can(action, env):
            raise PermissionDenied(
                f"The token '{self.token.name}' is scoped to {self.token.env}; to {action} in "
                f"{env} log in with a token scoped to {env} (or all).",
                details={"action": action, "env": env, "token_env": self.token.env},
            )


async def viewer(request: Request) -> Viewer:
    """The request's :class:`Viewer` (a FastAPI dependency)."""
    return viewer_of(request)


def viewer_of(request: Request) -> Viewer:
    """The request's :class:`Viewer` (the guard has checked the token already)."""
    token: ApiToken = request.scope["state"]["token"]
    base: Project = request.app.state.project
    client = request.client
    actor = Actor(token.name, "ui", client.host if client else None)
    secret = request.cookies.get(COOKIE) or ""
    return Viewer(token, base.acting_as(actor), base.settings.env, csrf_token(secret))


def check_origin(request: Request) -> None:
    """Refuse a POST whose Origin (or Referer) names another site.

    Raises:
        PermissionDenied: The request came from a page of another origin.
    """
    sent = request.headers.get("origin") or request.headers.get("referer")
    if not sent or sent == "null":
        return
    here = request.headers.get("host", "")
    if urlsplit(sent).netloc != here:
        raise PermissionDenied(
            f"This form was sent from {urlsplit(sent).netloc or sent!r}, not from Studio "
            f"({here}); reload the page and try again.",
            details={"origin": sent},
        )


async def check_csrf(request: Request) -> None:
    """Every Studio POST but the login carries the session's CSRF token (a form field, or
    the header htmx sends). A FastAPI dependency of the whole Studio app.

    Raises:
        PermissionDenied: The token is missing or wrong, or the POST came from elsewhere.
    """
    if request.method in _SAFE:
        return
    check_origin(request)
    if request.url.path == "/login":
        return
    expected = csrf_token(request.cookies.get(COOKIE) or "")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        field = form.get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    if not sent or not hmac.compare_digest(sent, expected):
        raise PermissionDenied(
            "This form's security token is missing or stale (a CSRF check); reload the page "
            "and send it again.",
            details={"check": "csrf"},
        )


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site, never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
