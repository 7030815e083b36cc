"""What a feature store declares: entities, feature groups and their features.

These frozen objects are the one vocabulary of the feature store. A YAML file and Python code
both build them; the offline engine (DuckDB, point in time) and the online store (per-entity
state, read at request time) both compile from them, so one definition yields the same values
on both paths.

Semantics, the same offline and online:

* **Windowed aggregation** over window ``W`` for an entity at time ``T`` covers the events with
  ``T - W < event_time <= T``: an event at exactly ``T`` is inside (a record being scored is
  counted in its own windows), an event at exactly ``T - W`` is outside.
* **Column feature**: the value of the entity's latest event with ``event_time <= T``; among
  events with the same time the one that arrived later wins (offline: the later row of the
  source). With a TTL, a value older than the TTL (``T - event_time >= ttl``) is null.
* Aggregations skip nulls, as SQL does. Over an empty window ``count`` and ``count_distinct``
  are 0 and the others are null. ``stddev`` is the sample standard deviation (null below two
  values). ``last`` is the latest non-null value in the window.
* A ``filter`` is a SQL predicate over the source's columns, evaluated per event; events for
  which it is not true are left out of that aggregation.
* A **derived** feature is an expression over other features of the same group, evaluated after
  them on the same row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Literal, TypeAlias

from shipyard.errors import InvalidInput, NotFound, did_you_mean

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

AggregationName: TypeAlias = Literal[
    "count", "sum", "mean", "min", "max", "count_distinct", "last", "stddev"
]
AGGREGATIONS: tuple[AggregationName, ...] = (
    "count",
    "sum",
    "mean",
    "min",
    "max",
    "count_distinct",
    "last",
    "stddev",
)
NUMERIC_AGGREGATIONS = frozenset({"sum", "mean", "stddev"})
"""Aggregations that need a numeric (or boolean) column; min/max/last/count take any type."""

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def parse_duration(value: str | int | float | timedelta, what: str) -> int:
    """Seconds in a duration such as ``"90s"``, ``"15m"``, ``"1h"``, ``"7d"``, ``"2w"``.

    Args:
        value: The text, a number of seconds, or a timedelta.
        what: What the duration is, for the message (e.g. "the window of feature 'x'").

    Raises:
        InvalidInput: Not a positive whole number of seconds in one of those forms.

    >>> parse_duration("24h", "a window"), parse_duration("7d", "a window")
    (86400, 604800)
    """
    seconds: float | None = None
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, bool):
        seconds = None
    elif isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds is None or seconds <= 0 or seconds != int(seconds):
        raise InvalidInput(
            f"{what[0].upper()}{what[1:]} must be a positive duration such as '90s', '15m', "
            f"'1h', '7d' or '2w'. Got {value!r} instead."
        )
    return int(seconds)


def format_duration(seconds: int) -> str:
    """A short text :func:`parse_duration` reads back as ``seconds``; days from two days up.

    >>> format_duration(86400), format_duration(604800), format_duration(5400)
    ('24h', '7d', '90m')
    """
    for unit in ("d", "h", "m"):
        if seconds % _UNIT_SECONDS[unit] == 0 and (unit != "d" or seconds >= 2 * 86_400):
            return f"{seconds // _UNIT_SECONDS[unit]}{unit}"
    return f"{seconds}s"


def _check_name(name: object, what: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(
            f"The name of {what} must start with a letter or '_' and hold only letters, digits "
            f"and '_' (at most 63). Got {name!r} instead."
        )
    return name


@dataclass(frozen=True)
class Entity:
    """What features are about (a subscriber, a card): a name and the key columns."""

    name: str
    keys: tuple[str, ...]
    description: str = ""

    def __post_init__(self) -> None:
        _check_name(self.name, "an entity")
        keys = (self.keys,) if isinstance(self.keys, str) else tuple(self.keys)
        if not keys:
            raise InvalidInput(f"Entity '{self.name}' needs at least one key column.")
        for key in keys:
            _check_name(key, f"a key column of entity '{self.name}'")
        object.__setattr__(self, "keys", keys)


@dataclass(frozen=True)
class Column:
    """A plain column of the source: the entity's latest value as of the time asked."""

    column: str
    name: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_name(self.column, "a source column")
        object.__setattr__(self, "name", _check_name(self.name or self.column, "a feature"))
        object.__setattr__(self, "tags", tuple(self.tags))


@dataclass(frozen=True)
class Aggregate:
    """An aggregation of the source's events over a trailing window ending at the time asked.

    ``column`` may be omitted for ``count`` (count the events). The default name is
    ``{function}_{column}_{window}``, e.g. ``sum_bytes_24h`` or ``count_1h``.
    """

    function: AggregationName
    column: str | None = None
    window: int | str | timedelta = "1d"
    filter: str | None = None
    name: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.function not in AGGREGATIONS:
            raise InvalidInput(
                f"Unknown aggregation '{self.function}'."
                f"{did_you_mean(str(self.function), AGGREGATIONS)}"
                f" Use one of: {', '.join(AGGREGATIONS)}."
            )
        if self.column is None and self.function != "count":
            raise InvalidInput(f"The aggregation '{self.function}' needs a 'column'.")
        if self.column is not None:
            _check_name(self.column, "a source column")
        seconds = parse_duration(self.window, f"the window of aggregation '{self.function}'")
        object.__setattr__(self, "window", seconds)
        if self.filter is not None and not (isinstance(self.filter, str) and self.filter.strip()):
            raise InvalidInput(
                f"The filter of aggregation '{self.function}' must be a SQL predicate."
            )
        default = "_".join(p for p in (self.function, self.column, format_duration(seconds)) if p)
        object.__setattr__(self, "name", _check_name(self.name or default, "a feature"))
        object.__setattr__(self, "tags", tuple(self.tags))

    @property
    def window_seconds(self) -> int:
        """The window length in seconds."""
        return int(self.window)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Derived:
    """An expression over other features of the same group, e.g. ``sum_bytes_1h / sum_bytes_7d``."""

    name: str
    expression: str
    description: str = ""
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_name(self.name, "a feature")
        if not isinstance(self.expression, str) or not self.expression.strip():
            raise InvalidInput(f"Derived feature '{self.name}' needs an 'expression'.")
        object.__setattr__(self, "tags", tuple(self.tags))


Feature: TypeAlias = Column | Aggregate | Derived


@dataclass(frozen=True)
class FeatureGroup:
    """Features of one entity computed from one source, keyed by entity and event time.

    Attributes:
        name: The group's name (unique in a project).
        entity: The name of its :class:`Entity`.
        source: The dataset whose rows are the events (its latest version when applied).
        event_time: The source's timestamp column.
        features: Column, Aggregate and Derived features, names unique in the group.
        ttl: Seconds after which a column feature's value expires (None: never).
        stream: Optionally a stream URL (``redis://host:6379/0/usage``) that carries new events.
        allowed_lateness: How late (seconds behind the newest event of the entity) an event may
            arrive and still be applied online; later ones are counted and reported.
        version: Assigned by the catalog when the group is applied; None before.
    """

    name: str
    entity: str
    source: str
    event_time: str
    features: tuple[Feature, ...]
    ttl: int | None = None
    stream: str | None = None
    allowed_lateness: int = 3600
    owner: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    version: int | None = None

    def __post_init__(self) -> None:
        _check_name(self.name, "a feature group")
        _check_name(self.entity, f"the entity of group '{self.name}'")
        _check_name(self.event_time, f"the event-time column of group '{self.name}'")
        if self.ttl is not None:
            ttl = parse_duration(self.ttl, f"the ttl of group '{self.name}'")
            object.__setattr__(self, "ttl", ttl)
        lateness = parse_duration(self.allowed_lateness, f"the allowed_lateness of '{self.name}'")
        object.__setattr__(self, "allowed_lateness", lateness)
        features = tuple(self.features)
        if not features:
            raise InvalidInput(f"Feature group '{self.name}' declares no features.")
        seen: set[str] = set()
        for feature in features:
            if feature.name in seen:
                raise InvalidInput(f"Feature group '{self.name}' declares '{feature.name}' twice.")
            seen.add(feature.name)
        object.__setattr__(self, "features", features)
        object.__setattr__(self, "tags", tuple(self.tags))

    @property
    def ref(self) -> str:
        """``name:version`` once applied, else the name."""
        return f"{self.name}:{self.version}" if self.version is not None else self.name

    @property
    def max_window(self) -> int:
        """The longest aggregation window in seconds (0 without aggregations)."""
        return max((f.window_seconds for f in self.aggregates), default=0)

    @property
    def columns(self) -> tuple[Column, ...]:
        return tuple(f for f in self.features if isinstance(f, Column))

    @property
    def aggregates(self) -> tuple[Aggregate, ...]:
        return tuple(f for f in self.features if isinstance(f, Aggregate))

    @property
    def derived(self) -> tuple[Derived, ...]:
        return tuple(f for f in self.features if isinstance(f, Derived))

    def feature(self, name: str) -> Feature:
        """The feature called ``name``.

        Raises:
            NotFound: The group has no such feature; the message suggests a close name.
        """
        for feature in self.features:
            if feature.name == name:
                return feature
        names = [f.name for f in self.features]
        raise NotFound(
            f"Feature group '{self.name}' has no feature '{name}'.{did_you_mean(name, names)} "
            f"See `shipyard features show {self.name}`."
        )

    def select(self, names: Sequence[str] | None) -> tuple[Feature, ...]:
        """The named features (all when None), in the order asked."""
        return self.features if not names else tuple(self.feature(n) for n in names)

    def with_version(self, version: int) -> FeatureGroup:
        return replace(self, version=version)

    def to_dict(self) -> dict[str, Any]:
        """Canonical JSON (the catalog stores it; equal groups give equal dicts)."""
        return {
            "name": self.name,
            "entity": self.entity,
            "source": self.source,
            "event_time": self.event_time,
            "ttl": self.ttl,
            "stream": self.stream,
            "allowed_lateness": self.allowed_lateness,
            "owner": self.owner,
            "description": self.description,
            "tags": list(self.tags),
            "features": [_feature_dict(f) for f in self.features],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], version: int | None = None) -> FeatureGroup:
        """The group :meth:`to_dict` wrote (also what a YAML file's group reads into)."""
        fields = dict(data)
        fields["features"] = tuple(_feature_from_dict(f) for f in fields.get("features", ()))
        fields["tags"] = tuple(fields.get("tags") or ())
        return cls(**fields, version=version)


def _feature_dict(feature: Feature) -> dict[str, Any]:
    body: dict[str, Any]
    if isinstance(feature, Column):
        kind, body = "column", {"column": feature.column}
    elif isinstance(feature, Aggregate):
        kind = "aggregate"
        body = {
            "function": feature.function,
            "column": feature.column,
            "window": format_duration(feature.window_seconds),
            "filter": feature.filter,
        }
    else:
        kind, body = "derived", {"expression": feature.expression}
    return {
        "name": feature.name,
        "kind": kind,
        **body,
        "description": feature.description,
        "tags": list(feature.tags),
    }


_KINDS: dict[str, type[Column] | type[Aggregate] | type[Derived]] = {
    "column": Column,
    "aggregate": Aggregate,
    "derived": Derived,
}


def _feature_from_dict(data: Mapping[str, Any]) -> Feature:
    fields = dict(data)
    kind = fields.pop("kind", None)
    if kind not in _KINDS:
        raise InvalidInput(
            f"A feature's 'kind' must be one of {', '.join(_KINDS)}. Got {kind!r} instead."
        )
    fields["tags"] = tuple(fields.get("tags") or ())
    return _KINDS[kind](**fields)


@dataclass(frozen=True)
class FeatureSet:
    """What one definitions file (or one Python module) declares."""

    entities: tuple[Entity, ...] = ()
    groups: tuple[FeatureGroup, ...] = ()

    def entity(self, name: str) -> Entity:
        for entity in self.entities:
            if entity.name == name:
                return entity
        names = [e.name for e in self.entities]
        raise NotFound(f"No entity named '{name}'.{did_you_mean(name, names)}")

    @staticmethod
    def of(items: Iterable[Entity | FeatureGroup]) -> FeatureSet:
        items = list(items)
        return FeatureSet(
            entities=tuple(i for i in items if isinstance(i, Entity)),
            groups=tuple(i for i in items if isinstance(i, FeatureGroup)),
        )
