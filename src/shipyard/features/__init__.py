"""The feature store: feature groups computed the same offline (point in time) and online."""

from __future__ import annotations

from shipyard.features._expr import Expression, parse_expression
from shipyard.features._freshness import Freshness, group_freshness
from shipyard.features._log import append_log, log_dir, log_files
from shipyard.features._logwriter import EventLogWriter
from shipyard.features._materialize import MaterializeReport, materialize
from shipyard.features._offline import historical_features
from shipyard.features._online import OnlineFeatures, get_online_features, online_values
from shipyard.features._push import PushReport, push, read_events
from shipyard.features._serving import (
    FEATURES_KEY,
    EntityLookup,
    EntityScorer,
    entity_scorer,
    model_features,
)
from shipyard.features._skew import SkewReport, check_skew
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
from shipyard.features._store import ApplyResult, apply, get_entity, get_group, list_groups
from shipyard.features._stream import ConsumeReport, consume
from shipyard.features._training import TrainingSet, inherit_lineage, training_set
from shipyard.features._yaml import load_definitions

__all__ = [
    "AGGREGATIONS",
    "FEATURES_KEY",
    "Aggregate",
    "ApplyResult",
    "Column",
    "ConsumeReport",
    "Derived",
    "Entity",
    "EntityLookup",
    "EntityScorer",
    "EventLogWriter",
    "Expression",
    "Feature",
    "FeatureGroup",
    "FeatureSet",
    "Freshness",
    "MaterializeReport",
    "OnlineFeatures",
    "PushReport",
    "SkewReport",
    "TrainingSet",
    "append_log",
    "apply",
    "check_skew",
    "consume",
    "entity_scorer",
    "format_duration",
    "get_entity",
    "get_group",
    "get_online_features",
    "group_freshness",
    "historical_features",
    "inherit_lineage",
    "list_groups",
    "load_definitions",
    "log_dir",
    "log_files",
    "materialize",
    "model_features",
    "online_values",
    "parse_duration",
    "parse_expression",
    "push",
    "read_events",
    "training_set",
]
