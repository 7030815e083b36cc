"""The DuckDB passes of a drift comparison: a row sample, then counts in one scan per side.

Nothing here holds a whole column: the sample is bounded (:data:`SAMPLE_ROWS`), and the
second pass returns, per column, a histogram over given boundaries (numbers) or the count of
each value (categories), with count, min, max, mean and standard deviation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from shipyard.errors import InvalidInput
from shipyard.lake import quote_ident

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from shipyard.monitor._source import Source

__all__ = ["SAMPLE_ROWS", "ColumnPlan", "Counts", "column_kind", "count_pass", "sample_pass"]

SAMPLE_ROWS = 20_000
"""Rows sampled per side: for bin edges, the small-sample tests and the multivariate check."""

_NUMERIC = re.compile(
    r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT"
    r"|FLOAT|DOUBLE|REAL|DECIMAL(\(\d+,\s*\d+\))?)$"
)
_FLOATING = ("FLOAT", "DOUBLE", "REAL")
_CATEGORICAL = re.compile(r"^(VARCHAR|BOOLEAN|ENUM\(.*\)|UUID)$")


def column_kind(duckdb_type: str) -> str | None:
    """``numeric``, ``categorical`` or None (dates, times, nested and binary types)."""
    if _NUMERIC.match(duckdb_type):
        return "numeric"
    if _CATEGORICAL.match(duckdb_type):
        return "categorical"
    return None


@dataclass(frozen=True)
class ColumnPlan:
    """How one column is read on both sides: its kind and its SQL expression per side."""

    name: str
    kind: str  # "numeric" | "categorical"
    ref_type: str
    cur_type: str

    def expr(self, side: str) -> str:
        """The value as DOUBLE (non-finite floats as NULL) or as VARCHAR."""
        col = quote_ident(self.name)
        typ = self.ref_type if side == "reference" else self.cur_type
        if self.kind == "categorical":
            return f"CAST({col} AS VARCHAR)"
        if typ in _FLOATING:
            return f"CASE WHEN isfinite({col}) THEN CAST({col} AS DOUBLE) END"
        return f"CAST({col} AS DOUBLE)"


@dataclass
class Counts:
    """What the count pass returns for one column on one side."""

    nonnull: int
    histogram: dict[Any, int] = field(default_factory=dict)
    minimum: float | None = None
    maximum: float | None = None
    mean: float | None = None
    std: float | None = None


def _run(con: duckdb.DuckDBPyConnection, source: Source, sql: str, *, arrow: bool = False) -> Any:
    import duckdb

    try:
        return con.sql(sql).to_arrow_table() if arrow else con.execute(sql)
    except duckdb.Error as exc:
        from shipyard.lake import error_text

        raise InvalidInput(f"Could not read {source.label}: {error_text(exc)}") from exc


def sample_pass(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    plans: Sequence[ColumnPlan],
    side: str,
    *,
    rows: int = SAMPLE_ROWS,
    seed: int = 0,
) -> tuple[int, pa.Table]:
    """``(row count, a uniform sample of at most ``rows`` rows)`` of the planned columns.

    The sample is a reservoir over the whole side, so sorted data (by time, say) is sampled
    evenly; when the side has no more than ``rows`` rows it is the whole side.
    """
    total = int(_run(con, source, f"SELECT count(*) FROM {source.relation}").fetchone()[0])
    exprs = ", ".join(f"{p.expr(side)} AS {quote_ident(p.name)}" for p in plans) or "1 AS _"
    if total <= rows:
        sql = f"SELECT {exprs} FROM {source.relation}"
    else:
        sql = (
            f"SELECT {exprs} FROM (SELECT * FROM {source.relation}) "
            f"USING SAMPLE reservoir({rows} ROWS) REPEATABLE ({seed})"
        )
    return total, _run(con, source, sql, arrow=True)


def _float_list(values: NDArray[np.float64]) -> str:
    return "[" + ", ".join(repr(float(v)) for v in values) + "]::DOUBLE[]"


def count_pass(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    plans: Sequence[ColumnPlan],
    side: str,
    boundaries: dict[str, NDArray[np.float64]],
) -> dict[str, Counts]:
    """One scan of a side: per column its non-null count and histogram, and for numbers the
    min, max, mean and standard deviation.

    A column named in ``boundaries`` is counted per bin ``(b[i-1], b[i]]`` (key ``b[i]``;
    values above the last boundary under the key ``inf``); any other column per value.
    """
    parts: list[str] = []
    for p in plans:
        e = p.expr(side)
        hist = (
            f"histogram({e}, {_float_list(boundaries[p.name])})"
            if p.name in boundaries
            else f"histogram({e})"
        )
        parts += [f"count({e})", hist]
        if p.kind == "numeric":
            parts += [f"min({e})", f"max({e})", f"avg({e})", f"stddev_samp({e})"]
    if not parts:
        return {}
    row = _run(con, source, f"SELECT {', '.join(parts)} FROM {source.relation}").fetchone()
    out: dict[str, Counts] = {}
    i = 0
    for p in plans:
        counts = Counts(nonnull=int(row[i]), histogram=dict(row[i + 1] or {}))
        i += 2
        if p.kind == "numeric":
            counts.minimum, counts.maximum, counts.mean, counts.std = row[i : i + 4]
            i += 4
        out[p.name] = counts
    return out
