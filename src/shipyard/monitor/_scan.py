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
    """What the count pass returns for one column on one side.

    ``bins`` (numbers with boundaries ``b``): counts per bin ``(b[i-1], b[i]]``, the first
    bin holding everything up to ``b[0]`` and a last extra bin everything above ``b[-1]``.
    ``values`` (any other column): the count of each distinct value.
    """

    nonnull: int = 0
    bins: NDArray[np.int64] | None = None
    values: dict[Any, int] = field(default_factory=dict)
    minimum: float | None = None
    maximum: float | None = None
    mean: float | None = None
    std: float | None = None
    below: float = 0.0
    above: float = 0.0
    """``sum((b[0] - x)+)`` and ``sum((x - b[-1])+)``: the area a side's CDF encloses beyond
    the boundaries, so a Wasserstein distance stays exact past them."""


def _run(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    sql: str,
    params: dict[str, Any] | None = None,
    *,
    arrow: bool = False,
) -> Any:
    import duckdb

    try:
        if arrow:
            return con.sql(sql).to_arrow_table()
        return con.execute(sql, params or {}).fetchall()[0]
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
    only_if_small: bool = False,
) -> tuple[int, pa.Table | None]:
    """``(row count, a uniform sample of about ``rows`` rows)`` of the planned columns.

    Each row is kept independently with probability ``rows / count`` (a seeded Bernoulli
    sample, which DuckDB draws while it scans, faster than a reservoir), so data sorted by
    time is sampled evenly; a side of at most ``rows`` rows is taken whole. With
    ``only_if_small``, a larger side is only counted (the sample is then None).
    """
    total = int(_run(con, source, f"SELECT count(*) FROM {source.relation}")[0])
    if only_if_small and total > rows:
        return total, None  # the count pass samples it on the way
    exprs = ", ".join(f"{p.expr(side)} AS {quote_ident(p.name)}" for p in plans) or "1 AS _"
    sql = f"SELECT {exprs} FROM {source.relation}"
    if total > rows:
        percent = 100 * rows / total
        sql = (
            f"SELECT {exprs} FROM (SELECT * FROM {source.relation}) "
            f"USING SAMPLE {percent:.6f}% (bernoulli, {seed})"
        )
    return total, _run(con, source, sql, arrow=True)


def _aggregate_sql(plan: ColumnPlan, edges: NDArray[np.float64] | None) -> list[str]:
    """The aggregates of one column (over the projected column of the same name)."""
    c = quote_ident(plan.name)
    parts = [f"count({c})"]
    if plan.kind == "numeric":
        parts += [f"min({c})", f"max({c})", f"avg({c})", f"stddev_samp({c})"]
        if edges is not None:
            lo, hi = repr(float(edges[0])), repr(float(edges[-1]))
            parts += [
                f"sum(greatest({lo}::DOUBLE - {c}, 0))",
                f"sum(greatest({c} - {hi}::DOUBLE, 0))",
            ]
    if plan.kind != "numeric" or edges is None:
        parts.append(f"histogram({c})")
    return parts


def _aggregate(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    plans: Sequence[ColumnPlan],
    side: str,
    boundaries: dict[str, NDArray[np.float64]],
) -> dict[str, Counts]:
    """Counts, moments, tail areas and per-value counts, in one DuckDB aggregate query."""
    exprs = ", ".join(f"{p.expr(side)} AS {quote_ident(p.name)}" for p in plans)
    parts = [_aggregate_sql(p, boundaries.get(p.name)) for p in plans]
    flat = ", ".join(x for part in parts for x in part)
    row = _run(con, source, f"SELECT {flat} FROM (SELECT {exprs} FROM {source.relation})")
    out: dict[str, Counts] = {}
    i = 0
    for p, part in zip(plans, parts, strict=True):
        got = row[i : i + len(part)]
        i += len(part)
        counts = Counts(nonnull=int(got[0]))
        if p.kind == "numeric":
            counts.minimum, counts.maximum, counts.mean, counts.std = got[1:5]
            if p.name in boundaries:
                counts.below, counts.above = float(got[5] or 0.0), float(got[6] or 0.0)
        if p.kind != "numeric" or p.name not in boundaries:
            counts.values = dict(got[-1] or {})
        out[p.name] = counts
    return out


def count_pass(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    plans: Sequence[ColumnPlan],
    side: str,
    boundaries: dict[str, NDArray[np.float64]],
    *,
    keep: float | None = None,
    batch_rows: int = 1 << 20,
) -> tuple[dict[str, Counts], pa.Table | None]:
    """Count a side: per column its non-null count and moments (DuckDB aggregates), per value
    (DuckDB's histogram) or per bin (NumPy on streamed batches); with ``keep``, also a
    Bernoulli sample of that share of the rows, drawn in the streamed scan so a large side
    needs no separate sampling scan.

    Memory holds one batch of about a million rows of the binned numbers, never a column.
    The sampled rows come from DuckDB's ``random()``, which no seed makes repeatable across
    threads; everything else is exact.
    """
    import duckdb
    import pyarrow as pa

    out = _aggregate(con, source, plans, side, boundaries) if plans else {}
    binned = [p for p in plans if p.name in boundaries]
    if not binned and keep is None:
        return out, None
    cols = [f"{p.expr(side)} AS {quote_ident('b:' + p.name)}" for p in binned]
    if keep is not None:
        cols += [f"CASE WHEN _keep THEN {p.expr(side)} END AS {quote_ident(p.name)}" for p in plans]
        cols.append("_keep")
    inner = f"SELECT *, random() < {keep!r} AS _keep FROM {source.relation}" if keep else None
    sql = f"SELECT {', '.join(cols)} FROM ({inner or 'SELECT * FROM ' + source.relation})"
    kept: list[pa.Table] = []
    try:
        for batch in con.sql(sql).to_arrow_reader(batch_rows):
            for i, p in enumerate(binned):
                _bin_batch(batch.column(i), boundaries[p.name], out[p.name])
            if keep is not None:
                rows = pa.Table.from_batches([batch]).filter(batch.column("_keep"))
                kept.append(rows.select([p.name for p in plans]))
    except duckdb.Error as exc:
        from shipyard.lake import error_text

        raise InvalidInput(f"Could not read {source.label}: {error_text(exc)}") from exc
    if keep is None:
        return out, None
    sample = pa.concat_tables(kept) if kept else None
    return out, sample


def _bin_batch(column: pa.Array, edges: NDArray[np.float64], counts: Counts) -> None:
    """Add a batch's values to the bins ``(b[i-1], b[i]]`` (a binary search per value)."""
    v = np.asarray(column.drop_null().to_numpy(zero_copy_only=False), dtype=np.float64)
    binned = np.bincount(np.searchsorted(edges, v, side="left"), minlength=edges.size + 1)
    counts.bins = binned if counts.bins is None else counts.bins + binned
