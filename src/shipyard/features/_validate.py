"""Check a feature group against its source dataset before it is stored or computed."""

from __future__ import annotations

from collections.abc import Mapping

from shipyard.errors import InvalidInput, NotFound, did_you_mean
from shipyard.features._expr import parse_expression
from shipyard.features._spec import NUMERIC_AGGREGATIONS, Aggregate, Column, Entity, FeatureGroup

__all__ = ["is_numeric", "is_timestamp", "validate_group"]

_NUMERIC = (
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
    "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "BOOLEAN",
)  # fmt: skip


def is_numeric(sql_type: str) -> bool:
    """A DuckDB type that sums and averages (integers, floats, decimals, booleans)."""
    return sql_type.upper().split("(")[0] in _NUMERIC


def is_timestamp(sql_type: str) -> bool:
    """A DuckDB TIMESTAMP (any precision, with or without time zone)."""
    return sql_type.upper().startswith("TIMESTAMP")


def _need_column(group: FeatureGroup, column: str, columns: Mapping[str, str], role: str) -> str:
    if column not in columns:
        raise NotFound(
            f"Feature group '{group.name}': {role} '{column}' is not a column of its source "
            f"'{group.source}'.{did_you_mean(column, columns)} Columns: "
            f"{', '.join(list(columns)[:30])}.",
            details={"group": group.name, "column": column},
        )
    return columns[column]


def feature_type(group: FeatureGroup, name: str, columns: Mapping[str, str]) -> str:
    """The DuckDB type a column or aggregate feature of ``group`` has."""
    feature = group.feature(name)
    if isinstance(feature, Column):
        return columns[feature.column]
    if isinstance(feature, Aggregate):
        if feature.function in ("count", "count_distinct"):
            return "BIGINT"
        if feature.function in ("mean", "stddev"):
            return "DOUBLE"
        return "DOUBLE" if feature.function == "sum" else columns[str(feature.column)]
    return "DOUBLE"


def validate_group(
    group: FeatureGroup,
    entity: Entity,
    columns: Mapping[str, str],
    check_filter: object = None,
) -> None:
    """Raise a clear error for the first thing in ``group`` its source cannot compute.

    Args:
        group: The group to check.
        entity: Its entity.
        columns: The source's column names and DuckDB types.
        check_filter: ``check_filter(sql)`` raising InvalidInput when a filter is not a
            boolean predicate over the source (run by DuckDB on the source's schema).
    """
    for key in entity.keys:
        _need_column(group, key, columns, f"the key '{key}' of entity '{entity.name}'")
    time_type = _need_column(group, group.event_time, columns, "the event_time")
    if not is_timestamp(time_type):
        raise InvalidInput(
            f"Feature group '{group.name}': the event_time column '{group.event_time}' is "
            f"{time_type}, not a timestamp. Cast it when ingesting (e.g. "
            f"`CAST({group.event_time} AS TIMESTAMP)` in `shipyard ingest --sql`)."
        )
    for feature in group.features:
        if isinstance(feature, Column):
            _need_column(group, feature.column, columns, f"feature '{feature.name}' reads")
        elif isinstance(feature, Aggregate):
            _check_aggregate(group, feature, columns, check_filter)
    _check_derived(group, columns)


def _check_aggregate(
    group: FeatureGroup, feature: Aggregate, columns: Mapping[str, str], check_filter: object
) -> None:
    if feature.column is not None:
        sql_type = _need_column(group, feature.column, columns, f"feature '{feature.name}' reads")
        if feature.function in NUMERIC_AGGREGATIONS and not is_numeric(sql_type):
            raise InvalidInput(
                f"Feature group '{group.name}': the aggregation '{feature.function}' of feature "
                f"'{feature.name}' needs a numeric or boolean column, but '{feature.column}' is "
                f"{sql_type}. Use count, count_distinct, min, max or last for it."
            )
    if feature.filter is not None and callable(check_filter):
        check_filter(feature.filter, f"the filter of feature '{feature.name}' of '{group.name}'")


def _check_derived(group: FeatureGroup, columns: Mapping[str, str]) -> None:
    inputs = [f.name for f in group.features if not hasattr(f, "expression")]
    for feature in group.derived:
        what = f"derived feature '{feature.name}' of '{group.name}'"
        expression = parse_expression(feature.expression, what)
        expression.check_names(inputs, what)
        for name in expression.names:
            sql_type = feature_type(group, name, columns)
            if not is_numeric(sql_type):
                raise InvalidInput(
                    f"The expression of {what} reads '{name}', which is {sql_type}; an "
                    "expression computes with numbers and booleans only."
                )
