"""Feature values of one entity at time ``T`` from its stored state, with NumPy.

Each aggregate reduces the records with ``T - W < t <= T`` (an event at exactly ``T`` is
inside); column values older than the TTL are null; derived features are evaluated last,
with the same evaluator the offline path's SQL is compiled from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from shipyard.features._codec import NO_TIME, PREFIX, check_magic, decode_columns, head_dtype
from shipyard.features._plan import AggPlan, Plan
from shipyard.features._state import Meta
from shipyard.online import OnlineStore

__all__ = ["read_state"]

Decoder = Callable[[list[int]], list[str | None]]


def _last(t: np.ndarray, x: np.ndarray) -> int:
    """Index of the latest value (the later record among equal times)."""
    return int(np.flatnonzero(t == t.max())[-1])


def _aggregate(agg: AggPlan, t: np.ndarray, x: np.ndarray, decode: Decoder | None) -> Any:
    """One aggregation over the window's non-null values ``x`` (times ``t``)."""
    fn = agg.function
    if fn == "count":
        return int(x.size)
    if fn == "count_distinct":
        return int(np.unique(x).size)
    if x.size == 0:
        return None
    if fn == "sum":
        return float(x.sum())
    if fn == "mean":
        return float(x.mean())
    if fn == "stddev":
        return float(x.std(ddof=1)) if x.size > 1 else None
    if decode is not None:
        if fn == "last":
            return decode([int(x[_last(t, x)])])[0]
        words = [w for w in decode(np.unique(x).astype(np.int64).tolist()) if w is not None]
        return (min(words) if fn == "min" else max(words)) if words else None
    if fn == "min":
        return float(x.min())
    if fn == "max":
        return float(x.max())
    return float(x[_last(t, x)])  # last


def read_state(
    plan: Plan,
    meta: Meta | None,
    blob: bytes | None,
    at_us: int,
    store: OnlineStore,
    wanted: frozenset[str] | None = None,
) -> dict[str, Any]:
    """Every feature of ``plan``'s group for one entity at ``at_us`` (microseconds)."""
    out: dict[str, Any] = {}
    n, column_time, width = 0, NO_TIME, head_dtype(len(plan.columns)).itemsize
    if blob is not None:
        check_magic(blob, plan.group.name)
        _, n, _, column_time = PREFIX.unpack_from(blob)
    records = np.frombuffer(blob or b"", dtype=plan.dtype, count=n, offset=width if n else 0)
    t, values = records["t"], records["v"]
    masks: dict[int, np.ndarray] = {}
    strings = meta.string_inputs if meta is not None else frozenset()
    for agg in plan.aggs:
        if wanted is not None and agg.name not in wanted:
            continue
        mask = masks.get(agg.window_us)
        if mask is None:
            mask = masks[agg.window_us] = (t > at_us - agg.window_us) & (t <= at_us)
        if agg.input < 0:
            out[agg.name] = int(np.count_nonzero(mask))
            continue
        x = values[mask, agg.input]
        valid = ~np.isnan(x)
        decode = None
        if agg.input in strings:
            decode = _decoder(store, plan)
        out[agg.name] = _aggregate(agg, t[mask][valid], x[valid], decode)
    if plan.columns:
        var_at = width + n * plan.dtype.itemsize
        out.update(_columns(plan, blob, column_time, var_at, at_us))
    for name, expression in plan.derived:
        out[name] = expression.evaluate({k: _number(v) for k, v in out.items()})
    return out


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


def _decoder(store: OnlineStore, plan: Plan) -> Decoder:
    return lambda codes: store.decode(plan.table, codes)


def _columns(
    plan: Plan, blob: bytes | None, column_time: int, var_at: int, at_us: int
) -> dict[str, Any]:
    values: list[Any] = [None] * len(plan.columns)
    if blob is not None and column_time != NO_TIME:
        fresh = column_time <= at_us and (plan.ttl_us is None or at_us - column_time < plan.ttl_us)
        if fresh:
            values = decode_columns(blob, len(plan.columns), var_at)
    return dict(zip(plan.column_names, values, strict=True))
