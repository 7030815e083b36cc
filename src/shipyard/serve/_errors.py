"""The HTTP-only error kinds of the inference server.

They live here, not in :mod:`shipyard.errors`, because only a server speaking HTTP can meet
them; each is still a :class:`ShipyardError`, so the one body shape holds for every error.
"""

from __future__ import annotations

from shipyard.errors import ShipyardError

__all__ = [
    "MalformedBody",
    "MethodNotAllowed",
    "NotSupported",
    "PayloadTooLarge",
    "UnsupportedMediaType",
]


class MalformedBody(ShipyardError):
    """The body cannot be decoded (not JSON, not UTF-8 CSV)."""

    status_code = 400


class MethodNotAllowed(ShipyardError):
    """The route exists but not for this HTTP method."""

    status_code = 405


class PayloadTooLarge(ShipyardError):
    """The body has more bytes, or more rows, than the server accepts."""

    status_code = 413


class UnsupportedMediaType(ShipyardError):
    """The Content-Type is not one the route reads."""

    status_code = 415


class NotSupported(ShipyardError):
    """A reserved feature this model or server cannot provide yet."""

    status_code = 501
