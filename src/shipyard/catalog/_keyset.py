"""Keyset pagination in SQL: a sort key that ends in a unique column, and "rows after this key".

A key is a list of columns, each with its own direction. "After" the key (v1, v2, ..., vn) is
``k1 > v1 OR (k1 = v1 AND (k2 > v2 OR ...))`` (``<`` for a descending column), written out
rather than as a row-value comparison so that the columns may run in different directions;
a redundant ``k1 >= v1`` in front lets the database seek to the page through an index on
``k1`` instead of reading the rows before it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from shipyard.catalog.paging import ResolvedQuery
from shipyard.errors import InvalidInput

__all__ = ["Key", "Spec", "read_page"]

_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (int, float),
    "str": (str,),
    "time": (str,),
}
_SQL_TYPES = {"int": sa.Integer(), "float": sa.Float(), "str": sa.String(), "time": None}


@dataclass(frozen=True)
class Key:
    """One column of a sort key: its SQL expression, the kind of value it holds (``int``,
    ``float``, ``str``, ``time``: a cursor's values are checked against it), and whether it
    stays ascending whatever the page's direction (``fixed``: a nulls-last flag)."""

    expr: ColumnElement[Any]
    kind: str
    fixed: bool = False


@dataclass(frozen=True)
class Spec:
    """How a listing reads: its select, sort keys (each ends in a unique column), filters,
    and how rows become entities (``convert`` gets the connection and the page's rows)."""

    select: sa.Select[Any]
    sorts: dict[str, list[Key]]
    filters: dict[str, Callable[[Any], ColumnElement[bool]]]
    convert: Callable[[Any, list[Any]], list[Any]]


def read_page(conn: Any, spec: Spec, query: ResolvedQuery, keys: list[Key] | None = None) -> Any:
    """The page ``query`` asks for, read with ``spec`` on ``conn``.

    Raises:
        InvalidInput: The cursor's values do not fit the sort key.
    """
    keys = keys if keys is not None else spec.sorts[query.sort]
    stmt = spec.select
    for name, value in query.filters.items():
        stmt = stmt.where(spec.filters[name](value))
    if query.after is not None:
        stmt = stmt.where(_after(keys, _values(keys, query.after), query.descending))
    order = [k.expr.asc() if k.fixed or not query.descending else k.expr.desc() for k in keys]
    labels = [f"_k{i}" for i in range(len(keys))]
    stmt = stmt.add_columns(*(k.expr.label(label) for k, label in zip(keys, labels, strict=True)))
    rows = conn.execute(stmt.order_by(*order).limit(query.limit + 1)).mappings().all()
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    last = [_plain(rows[-1][label]) for label in labels] if more else None
    clean = [{k: v for k, v in r.items() if not k.startswith("_k")} for r in rows]
    return query.page(spec.convert(conn, clean), last)


def _after(keys: Sequence[Key], values: Sequence[Any], descending: bool) -> ColumnElement[bool]:
    def beyond(key: Key, value: Any) -> ColumnElement[bool]:
        down = descending and not key.fixed
        return key.expr < value if down else key.expr > value

    clause = beyond(keys[-1], values[-1])
    for key, value in zip(reversed(keys[:-1]), reversed(values[:-1]), strict=True):
        clause = sa.or_(beyond(key, value), sa.and_(key.expr == value, clause))
    first, start = keys[0], values[0]
    down = descending and not first.fixed
    seek = first.expr <= start if down else first.expr >= start
    return sa.and_(seek, clause)


def _values(keys: Sequence[Key], after: Sequence[Any]) -> list[Any]:
    """A cursor's values as bound parameters of the key's types, or an error."""
    if len(after) != len(keys):
        raise _bad_cursor()
    out = []
    for key, value in zip(keys, after, strict=True):
        if not isinstance(value, _TYPES[key.kind]) or isinstance(value, bool):
            raise _bad_cursor()
        if key.kind == "time":
            try:
                value = datetime.fromisoformat(str(value))
            except ValueError:
                raise _bad_cursor() from None
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
        out.append(sa.literal(value, _SQL_TYPES[key.kind] or key.expr.type))
    return out


def _plain(value: Any) -> Any:
    """A key value as a cursor holds it: UTC datetimes (SQLite returns them naive)."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _bad_cursor() -> InvalidInput:
    return InvalidInput(
        "The 'cursor' parameter does not fit this listing's sort. Pass the 'next_cursor' of "
        "the previous page unchanged, or leave it out for the first page."
    )
