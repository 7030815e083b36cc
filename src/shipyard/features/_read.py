"""Feature values of one entity at time ``T`` from its stored state, with NumPy.

Each aggregate reduces the records with ``T - W < t <= T`` (an event at exactly ``T`` is
inside); column values older than the TTL are null; derived features are evaluated last,
with the same evaluator the offline path's SQL is compiled from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
    strings = meta.string_inputs if meta is not None else frozenset()
    layout = _layout(plan, strings)
    if layout.aggs:
        _reduce(layout, t, values, at_us, out, wanted)
    for agg in layout.others:
        if wanted is not None and agg.name not in wanted:
            continue
        mask = (t > at_us - agg.window_us) & (t <= at_us)
        x = values[mask, agg.input]
        valid = ~np.isnan(x)
        decode = _decoder(store, plan) if agg.input in strings else None
        out[agg.name] = _aggregate(agg, t[mask][valid], x[valid], decode)
    if plan.columns:
        var_at = width + n * plan.dtype.itemsize
        out.update(_columns(plan, blob, column_time, var_at, at_us))
    for name, expression in plan.derived:
        out[name] = expression.evaluate({k: _number(v) for k, v in out.items()})
    return out


@dataclass(frozen=True)
class _Layout:
    """A plan's count/sum/mean/min/max over numbers, as arrays: reduced all at once."""

    aggs: tuple[AggPlan, ...]
    windows: np.ndarray  # (A, 1) window per aggregation, µs
    inputs: np.ndarray  # (A,) input column (0 for an event count)
    events: np.ndarray  # (A, 1) true for an event count (no input: every event counts)
    others: tuple[AggPlan, ...]  # reduced one by one (distinct, last, stddev, strings)


_SIMPLE = frozenset({"count", "sum", "mean", "min", "max"})
_LAYOUTS: dict[tuple[int, frozenset[int]], tuple[Plan, _Layout]] = {}


def _layout(plan: Plan, strings: frozenset[int]) -> _Layout:
    hit = _LAYOUTS.get((id(plan), strings))
    if hit is not None and hit[0] is plan:
        return hit[1]
    simple = tuple(
        a
        for a in plan.aggs
        if a.function in _SIMPLE and (a.function == "count" or a.input not in strings)
    )
    layout = _Layout(
        aggs=simple,
        windows=np.array([a.window_us for a in simple], dtype=np.int64).reshape(-1, 1),
        inputs=np.array([max(a.input, 0) for a in simple], dtype=np.intp),
        events=np.array([a.input < 0 for a in simple], dtype=bool).reshape(-1, 1),
        others=tuple(a for a in plan.aggs if a not in simple),
    )
    if len(_LAYOUTS) > 256:
        _LAYOUTS.clear()
    _LAYOUTS[(id(plan), strings)] = (plan, layout)
    return layout


def _reduce(
    layout: _Layout,
    t: np.ndarray,
    values: np.ndarray,
    at_us: int,
    out: dict[str, Any],
    wanted: frozenset[str] | None,
) -> None:
    """The simple aggregations in a handful of NumPy calls over an (aggregation, record) grid."""
    in_window = (t > at_us - layout.windows) & (t <= at_us)
    if values.shape[1]:
        x = values.T[layout.inputs]
        valid = in_window & (layout.events | ~np.isnan(x))
    else:
        x, valid = np.zeros(in_window.shape), in_window
    count = valid.sum(axis=1).tolist()
    total = np.where(valid, x, 0.0).sum(axis=1).tolist()
    low = np.where(valid, x, np.inf).min(axis=1, initial=np.inf).tolist()
    high = np.where(valid, x, -np.inf).max(axis=1, initial=-np.inf).tolist()
    for agg, c, s, lo, hi in zip(layout.aggs, count, total, low, high, strict=True):
        if wanted is not None and agg.name not in wanted:
            continue
        fn = agg.function
        if fn == "count":
            out[agg.name] = c
        elif c == 0:
            out[agg.name] = None
        else:
            out[agg.name] = (
                s if fn == "sum" else s / c if fn == "mean" else lo if fn == "min" else hi
            )


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
