"""Scoring by entity: which model inputs a feature-store model reads from which group, and
the look-up that turns ``{entity key, event}`` requests into the model's rows.

A model trained on a dataset that :func:`training_set` made records, in its lineage, the
feature refs of :func:`model_features`. :class:`EntityScorer` reads them back: per request it
applies the events to the online store when asked (the offline log is appended in the
background by an :class:`EventLogWriter`), reads each group's features online at the event's
time (or now), and fills the model's other inputs from the request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from shipyard.errors import InvalidInput, NotFound
from shipyard.features._logwriter import EventLogWriter
from shipyard.features._online import entity_key, read_plan
from shipyard.features._plan import Plan
from shipyard.features._push import conform, push_table, source_schema
from shipyard.features._resolve import group_plan, to_micros
from shipyard.features._training import LINEAGE_REPORT

if TYPE_CHECKING:
    from shipyard.project import Project

__all__ = ["FEATURES_KEY", "EntityLookup", "EntityScorer", "entity_scorer", "model_features"]

FEATURES_KEY = "features"
"""The key of a model version's lineage (and bundle ``model.json``) holding its feature refs."""

EVENT = "event"


def model_features(project: Project, dataset: str, inputs: Sequence[str]) -> dict[str, Any] | None:
    """The feature refs of a model trained on dataset version ``dataset`` with ``inputs``.

    Returns None when the dataset was not made by :func:`training_set`. Otherwise::

        {"entity": ["subscriber_id"], "time": "ts",
         "groups": [{"group": "usage", "version": 2, "features": [...],
                     "columns": {feature: training-set column}}],
         "store_inputs": [...],    # model inputs read from the online store
         "request_inputs": [...]}  # model inputs the request carries

    Raises:
        BackendUnavailable: The catalog cannot be reached.
    """
    try:
        lineage = project.catalog.get_report(dataset, LINEAGE_REPORT).payload
    except NotFound:
        return None
    if not isinstance(lineage, dict) or "entity" not in lineage:
        return None  # a training set made before its lineage named the entity
    wanted = set(inputs)
    groups: list[dict[str, Any]] = []
    store: set[str] = set()
    for group in lineage["groups"]:
        used = {f: c for f, c in group["columns"].items() if c in wanted}
        store.update(used.values())
        groups.append(
            {
                "group": group["name"],
                "version": group["version"],
                "features": list(group["features"]),
                "columns": used,
            }
        )
    return {
        "entity": list(lineage["entity"]),
        "time": lineage["time"],
        "training_set": dataset,
        "groups": groups,
        "store_inputs": [c for c in inputs if c in store],
        "request_inputs": [c for c in inputs if c not in store],
    }


@dataclass
class EntityLookup:
    """The model rows of an entity request, and what the look-up found.

    Attributes:
        rows: One row of model inputs per entity, in request order.
        features: Per entity, the inputs read from the online store.
        missing: Entities the online store does not know (in some group): ``index``,
            ``entity`` (its key values) and ``groups``; their features are those of an empty
            history (counts 0, other values null, which the model treats as missing, as in
            training).
        applied: Per group, what applying the events did (``PushReport.to_dict()``).
    """

    rows: list[dict[str, Any]]
    features: list[dict[str, Any]]
    missing: list[dict[str, Any]] = field(default_factory=list)
    applied: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class _Group:
    plan: Plan
    schema: pa.Schema
    columns: tuple[tuple[str, str], ...]  # (feature, model input)
    wanted: frozenset[str] | None


class EntityScorer:
    """Builds a feature-store model's rows from entity keys and request-time events.

    Args:
        project: The project whose online store and groups are read.
        refs: The model's feature refs (:func:`model_features`).
        log: Where applied events go for the offline log (a private writer when None;
            :meth:`close` closes only a private one).

    Thread safe as the online store is.
    """

    def __init__(
        self, project: Project, refs: Mapping[str, Any], *, log: EventLogWriter | None = None
    ) -> None:
        self.project = project
        self.refs = dict(refs)
        self.keys: tuple[str, ...] = tuple(refs["entity"])
        self.time: str = refs["time"]
        self.request_inputs: tuple[str, ...] = tuple(refs["request_inputs"])
        self.store_inputs: tuple[str, ...] = tuple(refs["store_inputs"])
        self._own_log = log is None
        self.log = log if log is not None else EventLogWriter(project)
        self._groups = [self._group(g) for g in refs["groups"]]

    def _group(self, ref: Mapping[str, Any]) -> _Group:
        plan = group_plan(self.project, ref["group"], ref["version"])
        if len(plan.keys) != len(self.keys):
            raise InvalidInput(
                f"Group '{plan.group.ref}' is keyed by {', '.join(plan.keys)}, but the model's "
                f"entity is {', '.join(self.keys)}."
            )
        columns = tuple(ref["columns"].items())
        derived = {name for name, _ in plan.derived}
        wanted = None if derived & set(ref["columns"]) else frozenset(ref["columns"])
        return _Group(plan, source_schema(self.project, plan), columns, wanted)

    def close(self) -> None:
        """Write the events still queued for the offline log (when the writer is private)."""
        if self._own_log:
            self.log.close()

    def describe(self) -> dict[str, Any]:
        """The request contract: entity keys, event fields, inputs from the store."""
        return {
            "entity": list(self.keys),
            "time": self.time,
            "request_inputs": list(self.request_inputs),
            "store_inputs": list(self.store_inputs),
            "groups": [
                {
                    "group": g.plan.group.name,
                    "version": g.plan.group.version,
                    "event_columns": g.schema.names,
                }
                for g in self._groups
            ],
        }

    def lookup(
        self,
        entities: Sequence[Mapping[str, Any]],
        *,
        apply: bool = False,
        at: datetime | str | None = None,
    ) -> EntityLookup:
        """The model rows of ``entities`` (``{key: value, ..., "event": {...}}`` each).

        With ``apply`` each entity's event is first applied to the online state of the
        groups it is an event of (those whose source columns it carries) and queued for the
        offline log; that entity's features are then read at its event's time. The others
        are read at ``at`` (default: now).

        Raises:
            InvalidInput: A key is missing, an event is not an object, or (``apply``) an event
                fits no group or has a value of the wrong type.
            NotFound: A group the model reads no longer exists.
            BackendUnavailable: The online store cannot be reached.
        """
        keys, events = self._parse(entities)
        default_us = to_micros(at)
        times = [default_us] * len(entities)
        applied: list[dict[str, Any]] = []
        if apply and any(e is not None for e in events):
            applied = self._apply(keys, events, times)
        features: list[dict[str, Any]] = [{} for _ in entities]
        missing: dict[int, list[str]] = {}
        texts = [entity_key(k) for k in keys]
        for group in self._groups:
            for at_us, idx in _by_time(times).items():
                values, absent = read_plan(
                    self.project.online, group.plan, [texts[i] for i in idx], at_us, group.wanted
                )
                for i, got in zip(idx, values, strict=True):
                    out = features[i]
                    for feature, column in group.columns:
                        out[column] = got[feature]
                for j in absent:
                    missing.setdefault(idx[j], []).append(group.plan.group.name)
        rows = [
            self._row(k, e, f, t) for k, e, f, t in zip(keys, events, features, times, strict=True)
        ]
        gone = [
            {"index": i, "entity": dict(zip(self.keys, keys[i], strict=True)), "groups": g}
            for i, g in sorted(missing.items())
        ]
        return EntityLookup(rows, features, gone, applied)

    def _parse(
        self, entities: Sequence[Mapping[str, Any]]
    ) -> tuple[list[tuple[Any, ...]], list[Mapping[str, Any] | None]]:
        if not isinstance(entities, Sequence) or not entities:
            raise InvalidInput("Give at least one entity: {" + _shape(self.keys) + "}.")
        keys, events = [], []
        for i, item in enumerate(entities):
            if not isinstance(item, Mapping):
                raise InvalidInput(
                    f"Entity {i} must be a JSON object {{{_shape(self.keys)}}}. "
                    f"Got a {type(item).__name__}."
                )
            absent = [k for k in self.keys if item.get(k) is None]
            if absent:
                raise InvalidInput(
                    f"Entity {i} lacks its key {', '.join(repr(k) for k in absent)}. The model "
                    f"scores by {', '.join(self.keys)}: send {{{_shape(self.keys)}}}.",
                    details={"entity": i, "missing": absent},
                )
            event = item.get(EVENT)
            if event is not None and not isinstance(event, Mapping):
                raise InvalidInput(
                    f'The "event" of entity {i} must be a JSON object of the record\'s fields. '
                    f"Got a {type(event).__name__}.",
                    details={"entity": i},
                )
            keys.append(tuple(item[k] for k in self.keys))
            events.append(event)
        return keys, events

    def _apply(
        self,
        keys: list[tuple[Any, ...]],
        events: list[Mapping[str, Any] | None],
        times: list[int],
    ) -> list[dict[str, Any]]:
        """Apply each event to the groups it fits; set ``times`` to the event times."""
        reports = []
        fitting = 0
        for group in self._groups:
            names, plan = group.schema.names, group.plan
            idx = [i for i, e in enumerate(events) if e is not None and _fits(e, names, plan.keys)]
            if not idx:
                continue
            fitting += 1
            records = []
            for i in idx:
                record = {n: events[i].get(n) for n in names}  # type: ignore[union-attr]
                for spine_key, group_key in zip(self.keys, plan.keys, strict=True):
                    if record.get(group_key) is None:
                        record[group_key] = keys[i][self.keys.index(spine_key)]
                records.append(record)
            table = conform(pa.Table.from_pylist(records), group.schema, plan.group.ref)
            report = push_table(self.project, plan, table, log=self.log)
            reports.append(report.to_dict())
            stamps = pc.cast(pc.cast(table.column(plan.group.event_time), pa.timestamp("us")),
                             pa.int64()).to_pylist()  # fmt: skip
            for i, t in zip(idx, stamps, strict=True):
                if t is not None:
                    times[i] = int(t)
        if not fitting:
            raise InvalidInput(
                "apply=true, but no event fits a group of the model: an event must carry the "
                "columns of a group's source. "
                + " ".join(
                    f"Group '{g.plan.group.name}': {', '.join(g.schema.names)}."
                    for g in self._groups
                ),
                details={"groups": {g.plan.group.name: g.schema.names for g in self._groups}},
            )
        return reports

    def _row(
        self,
        keys: tuple[Any, ...],
        event: Mapping[str, Any] | None,
        features: dict[str, Any],
        at_us: int,
    ) -> dict[str, Any]:
        row = dict(features)
        event = event or {}
        for name in self.request_inputs:
            if name in self.keys:
                row[name] = keys[self.keys.index(name)]
            elif name in event:
                row[name] = event[name]
            elif name == self.time:
                row[name] = _iso(at_us)
        return row


def entity_scorer(
    project: Project, lineage: Mapping[str, Any], *, log: EventLogWriter | None = None
) -> EntityScorer | None:
    """The scorer of a model version whose ``lineage`` holds feature refs, else None.

    Raises:
        NotFound: A group the model was trained on no longer exists.
    """
    refs = lineage.get(FEATURES_KEY)
    if not refs:
        return None
    return EntityScorer(project, refs, log=log)


def _fits(event: Mapping[str, Any], names: Sequence[str], keys: Sequence[str]) -> bool:
    return all(n in event or n in keys for n in names)


def _by_time(times: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for i, t in enumerate(times):
        out.setdefault(t, []).append(i)
    return out


def _iso(at_us: int) -> str:
    return datetime.fromtimestamp(at_us / 1e6, UTC).replace(tzinfo=None).isoformat()


def _shape(keys: Sequence[str]) -> str:
    return ", ".join(f'"{k}": ...' for k in keys) + ', "event": {...}'
