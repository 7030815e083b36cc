"""The feature store: feature groups computed the same offline (point in time) and online."""

from __future__ import annotations

from shipyard.features._expr import Expression, parse_expression
from shipyard.features._log import append_log, log_dir, log_files
from shipyard.features._offline import historical_features
from shipyard.features._spec import (
    AGGREGATIONS,
    Aggregate,
    Column,
    Derived,
    Entity,
    Feature,
    FeatureGroup,
    FeatureSet,
    format_duration,
    parse_duration,
)

__all__ = [
    "AGGREGATIONS",
    "Aggregate",
    "Column",
    "Derived",
    "Entity",
    "Expression",
    "Feature",
    "FeatureGroup",
    "FeatureSet",
    "append_log",
    "format_duration",
    "historical_features",
    "log_dir",
    "log_files",
    "parse_duration",
    "parse_expression",
]
