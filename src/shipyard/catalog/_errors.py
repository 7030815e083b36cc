"""Driver errors to Shipyard errors: every SQLAlchemy or DBAPI exception the catalog can meet.

SQLite and PostgreSQL report a broken constraint differently (a message naming the columns, or
a SQLSTATE and the constraint's name), so both are read back to the constraint's name in
:mod:`shipyard.catalog._tables`; that name tells a lost race for a version number, which the
caller retries, from any other integrity error, which it must not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.sql.schema import ColumnCollectionConstraint

from shipyard.catalog._tables import metadata
from shipyard.errors import (
    AlreadyExists,
    BackendUnavailable,
    Conflict,
    InvalidInput,
    ShipyardError,
)

__all__ = ["RACES", "WriteRace", "translate"]

RACES = frozenset(
    {
        "uq_dataset_versions_name_version",
        "uq_model_versions_name_version",
        "model_aliases_pkey",
        "uq_feature_entities_name_version",
        "uq_feature_groups_name_version",
    }
)
"""Constraints that two writers break only by racing for the same next number or alias: a
write that broke one is run again (it then reads what the other writer stored)."""

_SQLSTATE_KIND = {"23505": "unique", "23502": "not_null", "23503": "foreign_key", "23514": "check"}
_SQLITE_KIND = {
    "SQLITE_CONSTRAINT_UNIQUE": "unique",
    "SQLITE_CONSTRAINT_PRIMARYKEY": "unique",
    "SQLITE_CONSTRAINT_NOTNULL": "not_null",
    "SQLITE_CONSTRAINT_FOREIGNKEY": "foreign_key",
    "SQLITE_CONSTRAINT_CHECK": "check",
}
_SQLITE_COLUMNS = re.compile(r"constraint failed: (.+)$", re.IGNORECASE)


class WriteRace(Conflict):
    """A concurrent writer stored the same version number or alias first; run the write again."""


@dataclass(frozen=True)
class _Violation:
    kind: str  # unique, not_null, foreign_key, check or unknown
    constraint: str | None
    detail: str


@cache
def _constraint_names() -> dict[tuple[str, frozenset[str]], str]:
    """(table, columns) of every unique key -> its name (PostgreSQL's ``<table>_pkey`` for a
    primary key), so that SQLite's column list can be named like PostgreSQL names it."""
    names: dict[tuple[str, frozenset[str]], str] = {}
    for table in metadata.tables.values():
        for constraint in table.constraints:
            if not isinstance(constraint, ColumnCollectionConstraint):
                continue
            columns = frozenset(c.name for c in constraint.columns)
            if isinstance(constraint, sa.PrimaryKeyConstraint):
                names[(table.name, columns)] = f"{table.name}_pkey"
            elif isinstance(constraint, sa.UniqueConstraint) and isinstance(constraint.name, str):
                names[(table.name, columns)] = constraint.name
    return names


def _violation(exc: sa_exc.IntegrityError) -> _Violation:
    orig = exc.orig
    detail = _first_line(orig)
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is not None:  # psycopg
        diag = getattr(orig, "diag", None)
        name = getattr(diag, "constraint_name", None)
        return _Violation(_SQLSTATE_KIND.get(sqlstate, "unknown"), name, detail)
    kind = _SQLITE_KIND.get(getattr(orig, "sqlite_errorname", ""), "unknown")
    match = _SQLITE_COLUMNS.search(detail)
    if match is None:
        return _Violation(kind, None, detail)
    qualified = [part.strip() for part in match.group(1).split(",")]
    tables = {q.split(".", 1)[0] for q in qualified if "." in q}
    columns = frozenset(q.split(".", 1)[1] for q in qualified if "." in q)
    name = _constraint_names().get((tables.pop(), columns)) if len(tables) == 1 else None
    return _Violation(kind, name, detail)


def _first_line(orig: object) -> str:
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else type(orig).__name__


def translate(exc: sa_exc.SQLAlchemyError, where: str) -> ShipyardError:
    """The Shipyard error to raise (``from exc``) for a failure of the catalog at ``where``.

    Args:
        exc: What SQLAlchemy raised (a DBAPI error wraps the driver's in ``exc.orig``).
        where: The catalog's URL with its password hidden, for the message.
    """
    if isinstance(exc, sa_exc.IntegrityError):
        return _integrity(exc)
    if isinstance(exc, sa_exc.DataError):
        return InvalidInput(
            f"The catalog refused a value: {_first_line(exc.orig)}. Nothing was written. "
            "Check the length and type of the names and values given (names are at most "
            "128 characters)."
        )
    if isinstance(exc, sa_exc.ProgrammingError):
        return BackendUnavailable(
            f"The catalog database at {where} rejected a statement: {_first_line(exc.orig)}. "
            "Its schema may have been written by another Shipyard version; open it with "
            "that version, or upgrade Shipyard."
        )
    if isinstance(exc, sa_exc.DBAPIError):  # Operational, Interface, Internal, Database, ...
        return BackendUnavailable(
            f"The catalog database at {where} failed: {_first_line(exc.orig)}. Check that it "
            "is running and reachable, that it is a Shipyard catalog, and that "
            "SHIPYARD_CATALOG_URL is right; then try again."
        )
    if isinstance(exc, sa_exc.TimeoutError):
        return BackendUnavailable(
            f"Every connection to the catalog at {where} stayed busy: {exc}. Try again, or "
            "run fewer writers at once."
        )
    return BackendUnavailable(f"The catalog at {where} failed: {exc}. Try again.")


def _integrity(exc: sa_exc.IntegrityError) -> ShipyardError:
    found = _violation(exc)
    details = {"constraint": found.constraint, "kind": found.kind}
    if found.constraint in RACES:
        return WriteRace(
            f"A concurrent writer stored the same version number or alias first "
            f"({found.constraint}). Nothing was written; try again.",
            details=details,
        )
    if found.kind == "unique":
        return AlreadyExists(
            f"The catalog already holds that key ({found.detail}). Nothing was written; "
            "read the existing object or use another name.",
            details=details,
        )
    if found.kind in ("not_null", "check"):
        return InvalidInput(
            f"The catalog refused the write: {found.detail}. Nothing was written; give a "
            "value for every required field.",
            details=details,
        )
    return Conflict(
        f"The write conflicts with what the catalog holds: {found.detail}. Nothing was written.",
        details=details,
    )
