"""What the online state of a group holds, compiled once from its definition.

Per entity the state keeps the raw events the aggregations need (those newer than the
entity's newest event minus the longest window and the allowed lateness), as fixed-size
records: the event time in microseconds and one float64 per *input*. An input is what one or
more aggregations reduce: a source column, or ``CASE WHEN filter THEN column END`` (the filter
evaluated when the event is written), so a filtered-out event is null for that aggregation
and aggregations skip nulls. Strings are stored as codes of the table's dictionary (exact,
so ``count_distinct`` is exact at any size). It also keeps the latest event's column values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from shipyard.features._expr import Expression, parse_expression
from shipyard.features._spec import Entity, FeatureGroup
from shipyard.lake import quote_ident

__all__ = ["AggPlan", "Plan", "compile_plan", "table_name"]

US = 1_000_000


def table_name(group: FeatureGroup) -> str:
    """The online-store table of one group version (a new version starts empty)."""
    return f"features/{group.name}/v{group.version or 0}"


@dataclass(frozen=True)
class AggPlan:
    """One aggregation: its feature name, function, window and input (-1: count events)."""

    name: str
    function: str
    window_us: int
    input: int


@dataclass(frozen=True)
class Plan:
    """A group compiled for the online path."""

    group: FeatureGroup
    keys: tuple[str, ...]
    table: str
    inputs: tuple[str, ...]
    aggs: tuple[AggPlan, ...]
    columns: tuple[str, ...]
    column_names: tuple[str, ...]
    derived: tuple[tuple[str, Expression], ...]
    horizon_us: int
    lateness_us: int
    ttl_us: int | None
    dtype: np.dtype = field(compare=False)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.group.features)


def _input_sql(column: str | None, predicate: str | None) -> str | None:
    if column is None:
        return None if predicate is None else f"CASE WHEN ({predicate}) THEN 1.0 END"
    value = quote_ident(column)
    return value if predicate is None else f"CASE WHEN ({predicate}) THEN {value} END"


def compile_plan(group: FeatureGroup, entity: Entity) -> Plan:
    """The online plan of ``group`` (whose entity is ``entity``)."""
    inputs: dict[str, int] = {}
    aggs = []
    for agg in group.aggregates:
        sql = _input_sql(agg.column, agg.filter)
        index = -1 if sql is None else inputs.setdefault(sql, len(inputs))
        aggs.append(AggPlan(agg.name, agg.function, agg.window_seconds * US, index))
    dtype = np.dtype([("t", "<i8"), ("v", "<f8", (len(inputs),))])
    return Plan(
        group=group,
        keys=entity.keys,
        table=table_name(group),
        inputs=tuple(inputs),
        aggs=tuple(aggs),
        columns=tuple(c.column for c in group.columns),
        column_names=tuple(c.name for c in group.columns),
        derived=tuple(
            (d.name, parse_expression(d.expression, f"derived feature '{d.name}'"))
            for d in group.derived
        ),
        horizon_us=(group.max_window + group.allowed_lateness) * US,
        lateness_us=group.allowed_lateness * US,
        ttl_us=None if group.ttl is None else int(group.ttl) * US,
        dtype=dtype,
    )
