"""The one error tree of Shipyard.

Every error a user can cause is a :class:`ShipyardError` of one of a few kinds. Each kind
carries the HTTP status the REST API and the inference server answer with, and a message that
says what was given, what was expected, and what to do next. The CLI prints the message and
exits non-zero without a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

__all__ = [
    "AlreadyExists",
    "BackendUnavailable",
    "Conflict",
    "IntegrityError",
    "InvalidInput",
    "LibraryVersionWarning",
    "NotFound",
    "PermissionDenied",
    "ShipyardError",
    "ShipyardWarning",
    "Unauthenticated",
    "did_you_mean",
    "require_columns",
]


class ShipyardError(Exception):
    """Root of every error Shipyard raises on purpose.

    Args:
        message: What was given, what was expected, and what to do next.
        details: Machine-readable context (column names, counts, ...) for the API's
            ``details`` field.
    """

    status_code: ClassVar[int] = 500
    kind: ClassVar[str] = "ShipyardError"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.kind = cls.__name__

    def to_dict(self) -> dict[str, Any]:
        """The body the REST API and the inference server answer with."""
        return {"error": self.kind, "message": self.message, "details": self.details}


class NotFound(ShipyardError):
    """A named object (dataset, model, run, alias, column) does not exist."""

    status_code = 404


class AlreadyExists(ShipyardError):
    """An object with that name or key exists already."""

    status_code = 409


class InvalidInput(ShipyardError):
    """The input does not have the shape, type or value that was expected."""

    status_code = 422


class Conflict(ShipyardError):
    """The request conflicts with the current state (a concurrent change, a gate)."""

    status_code = 409


class PermissionDenied(ShipyardError):
    """The caller is known but may not do this."""

    status_code = 403


class Unauthenticated(ShipyardError):
    """The caller did not prove who they are."""

    status_code = 401


class BackendUnavailable(ShipyardError):
    """A backend (database, object store, cache, cluster) cannot be reached."""

    status_code = 503


class IntegrityError(ShipyardError):
    """Stored data does not match its recorded checksum or shape."""

    status_code = 500


class ShipyardWarning(UserWarning):
    """Root of the warnings Shipyard gives: the CLI prints them as one line, no source."""


class LibraryVersionWarning(ShipyardWarning):
    """A model bundle was written with other versions of the libraries it needs."""


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """A " Did you mean 'x'?" suffix for an unknown name, or "" when nothing is close."""
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" Did you mean '{matches[0]}'?" if matches else ""


def require_columns(wanted: Iterable[str], available: Sequence[str], *, role: str = "") -> None:
    """Raise :class:`NotFound` for the first name in ``wanted`` that is not a column.

    The message suggests a close name and lists the columns (the first 30).
    """
    for name in wanted:
        if name not in available:
            what = f"{role} column" if role else "column"
            shown = ", ".join(available[:30]) + (" ..." if len(available) > 30 else "")
            raise NotFound(
                f"Unknown {what} {name!r}.{did_you_mean(name, available)} Columns: {shown}",
                details={"column": name, "columns": list(available)},
            )
