"""The DuckDB passes of a drift comparison: a row sample, then counts in one scan per side.

Nothing here holds a whole column: the sample is bounded (:data:`SAMPLE_ROWS`), and the
second pass returns, per column, a histogram over given boundaries (numbers) or the count of
each value (categories), with count, min, max, mean and standard deviation.
"""

from __future__ import annotations

import math
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


class _Moments:
    """Count, min, max, mean and SD accumulated batch by batch (sums about a shift, so a
    column far from zero loses no precision)."""

    def __init__(self) -> None:
        self.n = 0
        self.shift: float | None = None
        self.s1 = self.s2 = 0.0
        self.lo, self.hi = math.inf, -math.inf

    def add(self, v: NDArray[np.float64]) -> None:
        if not v.size:
            return
        if self.shift is None:
            self.shift = float(v[0])
        d = v - self.shift
        self.n += v.size
        self.s1 += float(d.sum())
        self.s2 += float(np.dot(d, d))
        self.lo, self.hi = min(self.lo, float(v.min())), max(self.hi, float(v.max()))

    def fill(self, counts: Counts) -> None:
        counts.nonnull = self.n
        if self.n and self.shift is not None:
            counts.minimum, counts.maximum = self.lo, self.hi
            counts.mean = self.shift + self.s1 / self.n
            if self.n > 1:
                counts.std = math.sqrt(max(0.0, (self.s2 - self.s1**2 / self.n) / (self.n - 1)))


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


def _add_values(into: dict[Any, int], column: pa.Array | pa.ChunkedArray) -> None:
    import pyarrow.compute as pc

    counted = pc.value_counts(column)
    for value, n in zip(
        counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True
    ):
        if value is not None:
            into[value] = into.get(value, 0) + n


def count_pass(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    plans: Sequence[ColumnPlan],
    side: str,
    boundaries: dict[str, NDArray[np.float64]],
    *,
    keep: float | None = None,
    seed: int = 0,
    batch_rows: int = 1 << 20,
) -> tuple[dict[str, Counts], pa.Table | None]:
    """One streaming scan of a side: per column its non-null count and histogram, and for
    numbers the min, max, mean and standard deviation; with ``keep``, also a Bernoulli
    sample of that share of the rows (so a large side needs no separate sampling scan).

    DuckDB reads and projects; each batch of about a million rows is binned in NumPy (a
    binary search over the boundaries) or counted by value in Arrow, so memory holds one
    batch, never a column.
    """
    import duckdb
    import pyarrow as pa

    exprs = ", ".join(f"{p.expr(side)} AS {quote_ident(p.name)}" for p in plans) or "1 AS _"
    rng = np.random.default_rng(seed)
    out = {p.name: Counts() for p in plans}
    moments = {p.name: _Moments() for p in plans if p.kind == "numeric"}
    kept: list[pa.RecordBatch] = []
    try:
        reader = con.sql(f"SELECT {exprs} FROM {source.relation}").to_arrow_reader(batch_rows)
        for batch in reader:
            if keep is not None:
                kept.append(batch.filter(pa.array(rng.random(batch.num_rows) < keep)))
            for i, p in enumerate(plans):
                _count_batch(batch.column(i), p, out[p.name], moments.get(p.name), boundaries)
    except duckdb.Error as exc:
        from shipyard.lake import error_text

        raise InvalidInput(f"Could not read {source.label}: {error_text(exc)}") from exc
    for name, m in moments.items():
        m.fill(out[name])
    for p in plans:
        if p.kind != "numeric" or p.name not in boundaries:
            out[p.name].nonnull = sum(out[p.name].values.values())
    sample = pa.Table.from_batches(kept, schema=reader.schema) if keep is not None else None
    return out, sample


def _count_batch(
    column: pa.Array,
    plan: ColumnPlan,
    counts: Counts,
    moments: _Moments | None,
    boundaries: dict[str, NDArray[np.float64]],
) -> None:
    if moments is None:
        _add_values(counts.values, column)
        return
    x = np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
    v = x[~np.isnan(x)] if column.null_count else x
    moments.add(v)
    edges = boundaries.get(plan.name)
    if edges is None:
        uniq, n = np.unique(v, return_counts=True)
        for key, k in zip(uniq.tolist(), n.tolist(), strict=True):
            counts.values[key] = counts.values.get(key, 0) + k
        return
    binned = np.bincount(np.searchsorted(edges, v, side="left"), minlength=edges.size + 1)
    counts.bins = binned if counts.bins is None else counts.bins + binned
    if v.size:
        counts.below += float(np.maximum(edges[0] - v, 0).sum())
        counts.above += float(np.maximum(v - edges[-1], 0).sum())
