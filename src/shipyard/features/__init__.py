"""The feature store: feature groups computed the same offline (point in time) and online."""

from __future__ import annotations

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
    "Feature",
    "FeatureGroup",
    "FeatureSet",
    "format_duration",
    "parse_duration",
]
