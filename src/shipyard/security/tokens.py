"""API tokens: made once and shown once, stored as a hash, checked in constant time.

A token reads ``shp_<id>_<secret>``: the id (16 hex characters) finds its record, the secret
(32 random bytes, URL-safe base64) proves it. Only the secret's SHA-256 is stored; a 256-bit
random secret needs no slow hash, and :func:`hmac.compare_digest` keeps the comparison
constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from shipyard.entities import ApiToken
from shipyard.errors import (
    AlreadyExists,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    did_you_mean,
)
from shipyard.security.roles import ALL_ENVIRONMENTS, ENVIRONMENTS, MATRIX, ROLES, allowed

if TYPE_CHECKING:
    from shipyard.catalog import Catalog
    from shipyard.project import Project

__all__ = [
    "Authorizer",
    "NewToken",
    "authorize",
    "create_token",
    "list_tokens",
    "parse_expiry",
    "revoke_token",
]

_PREFIX = "shp_"
_ID_CHARS = 16
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_EXPIRY = re.compile(r"^(\d{1,5})([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class NewToken:
    """A token just made: ``token`` is the secret bearer string, shown this once."""

    record: ApiToken
    token: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_expiry(text: str | None, *, now: datetime | None = None) -> datetime | None:
    """``30d``, ``12h``, ``90m``, ``2w`` from now; ``never`` or None: no expiry.

    Raises:
        InvalidInput: Any other text.
    """
    if text is None or text == "never":
        return None
    match = _EXPIRY.match(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise InvalidInput(
            "The 'expires' parameter of tokens create must be a positive count of minutes, "
            f"hours, days or weeks such as 90m, 12h, 30d or 2w, or 'never'. Got {text!r} "
            "instead.",
            details={"expires": text},
        )
    delta = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    return (now or datetime.now(UTC)) + delta


def _check_choice(value: str, choices: tuple[str, ...], what: str) -> None:
    if value not in choices:
        raise InvalidInput(
            f"The '{what}' parameter of tokens create must be one of {', '.join(choices)}. "
            f"Got {value!r} instead.{did_you_mean(value, choices)}",
            details={what: value},
        )


def create_token(
    project: Project, name: str, *, role: str, env: str = "dev", expires: str | None = "90d"
) -> NewToken:
    """Make a token for ``role`` in ``env`` (or ``all``); the bearer string is returned once.

    Raises:
        InvalidInput: An unknown role or environment, a bad name or expiry.
        AlreadyExists: A token has that name already.
    """
    _check_choice(role, ROLES, "role")
    _check_choice(env, (*ENVIRONMENTS, ALL_ENVIRONMENTS), "env")
    if not _NAME.match(name):
        raise InvalidInput(
            "The 'name' parameter of tokens create must be 1-128 letters, digits, '_', '.' or "
            f"'-', starting with a letter or digit. Got {name!r} instead.",
            details={"name": name},
        )
    expires_at = parse_expiry(expires)
    token_id = secrets.token_hex(_ID_CHARS // 2)
    secret = secrets.token_urlsafe(32)
    try:
        record = project.catalog.create_token(
            token_id,
            name=name,
            role=role,
            env=env,
            secret_hash=_digest(secret),
            expires_at=expires_at,
            actor=project.actor,
        )
    except AlreadyExists as exc:
        raise AlreadyExists(
            f"There is already a token named '{name}'. Choose another name, or revoke it and "
            "use a new name (`shipyard tokens list`).",
            details={"name": name},
        ) from exc
    return NewToken(record, f"{_PREFIX}{token_id}_{secret}")


def list_tokens(project: Project) -> list[ApiToken]:
    """Every token's record (never a secret), oldest first."""
    return project.catalog.list_tokens()


def revoke_token(project: Project, name: str) -> ApiToken:
    """Revoke the token ``name`` (or id); servers refuse it within their cache time.

    Raises:
        NotFound: No such token.
        Conflict: It is revoked already.
    """
    return project.catalog.revoke_token(name, actor=project.actor)


def _split(token: str) -> tuple[str, str]:
    ok = (
        token.startswith(_PREFIX)
        and len(token) > len(_PREFIX) + _ID_CHARS + 1
        and token[len(_PREFIX) + _ID_CHARS] == "_"
    )
    if not ok:
        raise Unauthenticated("The bearer token is malformed. Tokens read shp_<id>_<secret>.")
    head = len(_PREFIX) + _ID_CHARS
    return token[len(_PREFIX) : head], token[head + 1 :]


class Authorizer:
    """Checks bearer tokens against the catalog, caching records for ``cache_seconds``.

    Thread safe. A revoked token is refused at the latest ``cache_seconds`` after revocation;
    the secret is compared on every call, in constant time.
    """

    def __init__(self, catalog: Catalog, *, cache_seconds: float = 10.0) -> None:
        self.catalog = catalog
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, ApiToken | None]] = {}
        self._lock = threading.Lock()

    def _record(self, token_id: str) -> ApiToken | None:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(token_id)
        if hit is not None and now - hit[0] < self.cache_seconds:
            return hit[1]
        try:
            record: ApiToken | None = self.catalog.get_token(token_id)
        except NotFound:
            record = None
        with self._lock:
            if len(self._cache) > 10_000:  # ids that never existed must not grow it forever
                self._cache.clear()
            self._cache[token_id] = (now, record)
        return record

    def authenticate(self, token: str | None) -> ApiToken:
        """The record of a valid, unrevoked, unexpired ``token``.

        Raises:
            Unauthenticated: No token, a malformed, unknown, wrong, revoked or expired one.
        """
        if not token:
            raise Unauthenticated(
                "This route needs a token: send 'Authorization: Bearer <token>' (make one "
                "with `shipyard tokens create`)."
            )
        token_id, secret = _split(token)
        record = self._record(token_id)
        # Compare even when the id is unknown, so timing does not tell known ids apart.
        expected = record.secret_hash if record is not None else "0" * 64
        if not hmac.compare_digest(_digest(secret), expected) or record is None:
            raise Unauthenticated("The bearer token is not valid.")
        if record.revoked_at is not None:
            raise Unauthenticated(f"The token '{record.name}' was revoked.")
        if record.expires_at is not None and record.expires_at <= datetime.now(UTC):
            raise Unauthenticated(
                f"The token '{record.name}' expired at {record.expires_at:%Y-%m-%d %H:%M} UTC."
            )
        return record

    def authorize(self, token: str | None, action: str, env: str) -> ApiToken:
        """The token's record if it may do ``action`` in ``env`` per the role matrix.

        Raises:
            Unauthenticated: See :meth:`authenticate`.
            PermissionDenied: The token's role or environment does not allow ``action``.
            InvalidInput: ``action`` is not in the matrix (a programming error in a face).
        """
        if action not in MATRIX:
            raise InvalidInput(f"Unknown action {action!r}; the actions are {', '.join(MATRIX)}.")
        record = self.authenticate(token)
        if record.env not in (env, ALL_ENVIRONMENTS):
            raise PermissionDenied(
                f"The token '{record.name}' is scoped to {record.env}; this is {env}.",
                details={"token": record.name, "env": env},
            )
        if not allowed(record.role, action):
            roles = ", ".join(r for r in ROLES if allowed(r, action))
            raise PermissionDenied(
                f"The token '{record.name}' has role {record.role}, which may not {action}. "
                f"Roles that may: {roles}.",
                details={"token": record.name, "role": record.role, "action": action},
            )
        return record


def authorize(catalog: Catalog, token: str | None, action: str, env: str) -> ApiToken:
    """Check ``token`` for ``action`` in ``env`` (no cache; faces keep an :class:`Authorizer`).

    Raises:
        Unauthenticated: No token, or a malformed, unknown, wrong, revoked or expired one.
        PermissionDenied: Its role or environment does not allow ``action``.
    """
    return Authorizer(catalog, cache_seconds=0).authorize(token, action, env)
