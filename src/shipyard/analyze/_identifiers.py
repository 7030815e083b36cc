"""Identifiers and entity keys, told from their names and values.

An identifier names a row or an entity; as a feature it lets a model memorize rows, and it
scores new entities on whatever their number happens to be. A column is one when:

- its values are UUIDs or hashes (hex strings of one length, 16 characters or more);
- it is strings, sequential integers or integer codes of one width (6 digits or more) with
  a distinct value on (almost, 95%) every row, counting a duplicated row once (so a table
  whose rows repeat still shows its key), 50 values or more; unique integers that are
  neither (an amount in cents) are not;
- its name says so (``customer_id``, ``account_ref``, ``sessionKey``, ``uuid``) and it has 50
  distinct values or more (a ``region_id`` of 5 values is a category; 955 subscribers over
  76,800 rows are entities a model would memorize).

An entity key is an identifier whose values repeat across rows (the same customer on many
rows): a random split then puts the same entity in train and test.

The profile judges from its exact counts (:func:`identifier_reason`); training and the
split judge a pandas frame from a row sample (:func:`identifiers`, :func:`entity_keys`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the profile reads no pandas; only training and the split use these
    import pandas as pd

__all__ = [
    "FORMAT_VALUES",
    "MIN_DISTINCT",
    "entity_keys",
    "id_name",
    "identifier_reason",
    "identifiers",
    "value_format",
]

MIN_DISTINCT = 50
UNIQUE_SHARE = 0.95
ENTITY_REPEAT = 1.2  # an entity key's values come back: 1.2 rows per value or more
SAMPLE_ROWS = 50_000
FORMAT_VALUES = 200  # distinct strings whose format is looked at

_SNAKE = re.compile(r"(?:^|[_\-. ])(id|ids|uuid|guid|ref|key)$", re.IGNORECASE)
_CAMEL = re.compile(r"[a-z0-9](Id|ID|Ref|Key|Uuid|UUID|Guid|GUID)$")
_UUID = re.compile(
    r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
)
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_MIN_HASH_LENGTH = 16


def id_name(name: str) -> str | None:
    """The part of ``name`` that marks an identifier (``_id``, ``Ref``...), or None.

    Example:
        >>> id_name("customer_ref"), id_name("accountId"), id_name("paid")
        ('_ref', 'Id', None)
    """
    found = _SNAKE.search(name)
    if found is not None:
        return found.group(0)
    camel = _CAMEL.search(name)
    return camel.group(1) if camel is not None else None


def value_format(values: Iterable[Any]) -> str | None:
    """``"UUID"`` or ``"hash"`` when every one of these (distinct, non-null) strings is one.

    Example:
        >>> value_format(["3f2b8c1e-4d5a-4b6c-9e7f-0a1b2c3d4e5f"]), value_format(["ab", "cd"])
        ('UUID', None)
    """
    shown = [v for v in values if isinstance(v, str)][:FORMAT_VALUES]
    if not shown:
        return None
    if all(_UUID.match(v) for v in shown):
        return "UUID"
    lengths = {len(v) for v in shown}
    if (
        len(lengths) == 1
        and lengths.pop() >= _MIN_HASH_LENGTH
        and all(_HEX.match(v) for v in shown)
        and len(shown) > 1
    ):
        return "hash"
    return None


def identifier_reason(
    name: str,
    *,
    distinct: int,
    rows: int,
    fmt: str | None = None,
    repeated_rows: int = 0,
    span: tuple[int, int] | None = None,
) -> str | None:
    """Why an integer or string column is an identifier, or None when it is not.

    Args:
        name: The column's name.
        distinct: Its distinct non-null values.
        rows: Its non-null values, a duplicated row counted once.
        fmt: What :func:`value_format` found in its values.
        repeated_rows: Rows that repeat another row exactly (said in the reason).
        span: An integer column's smallest and largest value. Unique integers are an
            identifier only when they are sequential (a range at most 3 times as wide as
            their count), codes of one width (6 digits or more) or named so: an amount or
            a count can be unique on every row too.
    """
    if fmt is not None:
        return f"its values are {fmt}s"
    if distinct < MIN_DISTINCT or rows <= 0:
        return None
    marker = id_name(name)
    named = f"its name ends in '{marker}'" if marker is not None else None
    if distinct >= UNIQUE_SHARE * rows:
        once = f", each of {repeated_rows:,} repeated rows counted once" if repeated_rows else ""
        share = distinct / rows
        unique = f"a distinct value on {share:.0%} of its rows ({distinct:,} of {rows:,}{once})"
        kind = _integer_kind(span, distinct) if span is not None else "strings"
        if kind is not None or named:
            return f"{kind or named}, {unique}"
    if named:
        return f"{named} and it has {distinct:,} distinct values"
    return None


def _integer_kind(span: tuple[int, int], distinct: int) -> str | None:
    """What makes unique integers an identifier: sequential, or codes of one width."""
    low, high = span
    if high - low + 1 <= 3 * distinct:
        return f"sequential integers ({low:,} to {high:,})"
    if low >= 100_000 and len(str(low)) == len(str(high)):
        return f"codes of {len(str(low))} digits"
    return None


def _candidate(col: pd.Series) -> bool:
    """Integers or strings: the types an identifier comes in (floats, booleans, dates never)."""
    import numpy as np
    import pandas as pd

    dtype = col.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return False
    if pd.api.types.is_integer_dtype(dtype):
        return True
    return (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_string_dtype(dtype)
        or dtype == np.dtype(object)
    )


def _sample(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    if len(frame) <= SAMPLE_ROWS:
        return frame
    return frame.sample(SAMPLE_ROWS, random_state=seed)


def _span(col: pd.Series) -> tuple[int, int] | None:
    """An integer column's smallest and largest value (None for strings or no values)."""
    import pandas as pd

    if not pd.api.types.is_integer_dtype(col.dtype) or col.count() == 0:
        return None
    return int(col.min()), int(col.max())


def _format_of(col: pd.Series) -> str | None:
    import pandas as pd

    if pd.api.types.is_integer_dtype(col.dtype):
        return None
    return value_format(pd.unique(col.dropna())[:FORMAT_VALUES].tolist())


def identifiers(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> dict[str, str]:
    """The columns of ``frame`` (or of ``columns``) that are identifiers, with the reason,
    judged on a sample of at most 50,000 rows."""
    sample = _sample(frame)
    names = [c for c in (columns if columns is not None else sample.columns)]
    stats: dict[str, tuple[int, int]] = {}
    for name in names:
        col = sample[name]
        if _candidate(col):
            stats[name] = (int(col.nunique(dropna=True)), int(col.count()))
    spans = {name: _span(sample[name]) for name in stats}
    # Whole-row duplicates only matter to a column that is unique once they are set aside.
    repeated = 0
    if any(MIN_DISTINCT <= d < UNIQUE_SHARE * n for d, n in stats.values()):
        repeated = int(sample.duplicated().sum())
    out: dict[str, str] = {}
    for name, (distinct, count) in stats.items():
        rows = min(count, len(sample) - repeated)
        fmt = _format_of(sample[name])
        reason = identifier_reason(
            name, distinct=distinct, rows=rows, fmt=fmt, repeated_rows=repeated, span=spans[name]
        )
        if reason is not None:
            out[name] = reason
    return out


def entity_keys(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> dict[str, str]:
    """Columns that name an entity seen on several rows (an identifier by name or by format
    whose values repeat), with what was seen; judged on a sample of at most 50,000 rows."""
    sample = _sample(frame)
    out: dict[str, str] = {}
    for name in columns if columns is not None else sample.columns:
        col = sample[name]
        if not _candidate(col):
            continue
        distinct, count = int(col.nunique(dropna=True)), int(col.count())
        if distinct < 20 or count < ENTITY_REPEAT * distinct:
            continue
        fmt = _format_of(col)
        marker = id_name(name)
        if fmt is None and (marker is None or distinct < MIN_DISTINCT):
            continue
        why = f"its values are {fmt}s" if fmt else f"its name ends in '{marker}'"
        out[name] = f"{why}; {count / distinct:.1f} rows per value"
    return out
