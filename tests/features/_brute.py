"""A pure-Python reference of the feature store's semantics (see shipyard.features._spec).

Slow and obvious on purpose: every spine row scans every event.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from shipyard.features import Aggregate, Column, Derived, FeatureGroup, parse_expression

Row = Mapping[str, Any]


def _aggregate(feature: Aggregate, events: list[tuple[int, Row]]) -> Any:
    column = feature.column
    if feature.function == "count" and column is None:
        return len(events)
    values = [(i, e[column]) for i, e in events if e[column] is not None]
    if feature.function == "count":
        return len(values)
    if feature.function == "count_distinct":
        return len({v for _, v in values})
    if not values:
        return None
    plain = [v for _, v in values]
    if feature.function == "last":
        return max(values, key=lambda iv: (events_time(events, iv[0]), iv[0]))[1]
    if feature.function == "min":
        return min(plain)
    if feature.function == "max":
        return max(plain)
    numbers = [float(v) for v in plain]
    if feature.function == "sum":
        return sum(numbers)
    if feature.function == "mean":
        return sum(numbers) / len(numbers)
    return statistics.stdev(numbers) if len(numbers) >= 2 else None


def events_time(events: list[tuple[int, Row]], index: int) -> datetime:
    return next(e["__time"] for i, e in events if i == index)


def features_at(
    group: FeatureGroup,
    keys: Sequence[str],
    events: Sequence[Row],
    key_values: Sequence[Any],
    at: datetime,
    filters: Mapping[str, Callable[[Row], bool | None]],
) -> dict[str, Any]:
    """Every feature of ``group`` for one entity at instant ``at``; ``events`` in arrival
    order; ``filters`` maps a filter's SQL text to its Python truth."""
    mine = [
        (i, {**e, "__time": e[group.event_time]})
        for i, e in enumerate(events)
        if None not in key_values
        and all(e[k] == v for k, v in zip(keys, key_values, strict=True))
        and e[group.event_time] is not None
        and e[group.event_time] <= at
    ]
    out: dict[str, Any] = {}
    for feature in group.features:
        if isinstance(feature, Column):
            if not mine:
                out[feature.name] = None
                continue
            i, latest = max(mine, key=lambda ie: (ie[1]["__time"], ie[0]))
            expired = group.ttl is not None and at - latest["__time"] >= timedelta(
                seconds=group.ttl
            )
            out[feature.name] = None if expired else latest[feature.column]
        elif isinstance(feature, Aggregate):
            start = at - timedelta(seconds=feature.window_seconds)
            inside = [
                (i, e)
                for i, e in mine
                if e["__time"] > start and (feature.filter is None or filters[feature.filter](e))
            ]
            out[feature.name] = _aggregate(feature, inside)
    for feature in group.features:
        if isinstance(feature, Derived):
            out[feature.name] = parse_expression(feature.expression).evaluate(out)
    return out
