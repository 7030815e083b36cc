"""The HTTP-only error kinds of the inference server.

They live here, not in :mod:`shipyard.errors`, because only a server speaking HTTP can meet
them; each is still a :class:`ShipyardError`, so the one body shape holds for every error.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shipyard.errors import ShipyardError

__all__ = [
    "HTTPError",
    "MalformedBody",
    "MethodNotAllowed",
    "NotSupported",
    "PayloadTooLarge",
    "UnsupportedMediaType",
]


class HTTPError(ShipyardError):
    """Base of the HTTP-only kinds: ``headers`` go out with the error response."""

    headers: tuple[tuple[bytes, bytes], ...] = ()


class MalformedBody(HTTPError):
    """The body cannot be decoded (not JSON, not UTF-8 CSV), or the client left mid-body."""

    status_code = 400


class MethodNotAllowed(HTTPError):
    """The route exists but not for this HTTP method; ``Allow`` lists the ones it answers."""

    status_code = 405

    def __init__(
        self, message: str, *, allowed: Iterable[str], details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, details=details)
        self.headers = ((b"allow", ", ".join(allowed).encode()),)


class PayloadTooLarge(HTTPError):
    """The body has more bytes, or more rows, than the server accepts."""

    status_code = 413


class UnsupportedMediaType(HTTPError):
    """The Content-Type is not one the route reads."""

    status_code = 415


class NotSupported(HTTPError):
    """A reserved feature this model or server cannot provide yet."""

    status_code = 501
