"""The feature-store side of the inference server: scoring by entity, online reads, pushes.

Parsing and formatting only; the work is the features room's (:class:`EntityScorer`,
:func:`get_online_features`, :func:`push`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    from shipyard.features import EntityLookup, EventLogWriter
    from shipyard.project import Project

__all__ = [
    "ONLINE_ROUTE",
    "PUSH_PREFIX",
    "PUSH_ROUTE",
    "FeatureRoutes",
    "entity_extras",
    "entity_request",
    "flags",
    "push_group",
]

ONLINE_ROUTE = "/v1/features/online"
PUSH_PREFIX = "/v1/features/"
PUSH_SUFFIX = "/push"
PUSH_ROUTE = "/v1/features/{group}/push"
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no", ""})


def push_group(path: str) -> str | None:
    """The group of a ``/v1/features/{group}/push`` path, else None."""
    if path.startswith(PUSH_PREFIX) and path.endswith(PUSH_SUFFIX):
        group = unquote(path[len(PUSH_PREFIX) : -len(PUSH_SUFFIX)])
        if group and "/" not in group:
            return group
    return None


def entity_request(doc: Any, keys: Sequence[str]) -> list[Mapping[str, Any]] | None:
    """The entities of a scoring body, or None when it is not an entity request.

    ``{"subscriber_id": ..., "event": {...}}`` is one entity; ``{"entities": [...]}`` many.
    """
    if not isinstance(doc, dict):
        return None
    if "entities" in doc:
        entities = doc["entities"]
        if not isinstance(entities, list) or not entities:
            raise InvalidInput(
                '"entities" must be a non-empty list of objects '
                f'{{{", ".join(repr(k) for k in keys)}, "event": {{...}}}}.'
            )
        return entities
    if any(k in doc for k in keys) or "event" in doc:
        return [doc]
    return None


def flags(query: bytes, doc: Mapping[str, Any], names: Sequence[str]) -> dict[str, bool]:
    """Boolean options given as ``?name=true`` or as ``"name": true`` in the body."""
    params = parse_qs(query.decode("latin-1")) if query else {}
    out = {}
    for name in names:
        value: Any = doc.get(name, False)
        if name in params:
            text = params[name][-1].lower()
            if text not in _TRUE | _FALSE:
                raise InvalidInput(
                    f"'{name}' must be true or false. Got {params[name][-1]!r}.",
                    details={name: params[name][-1]},
                )
            value = text in _TRUE
        if not isinstance(value, bool):
            raise InvalidInput(f'"{name}" must be true or false. Got {value!r}.')
        out[name] = value
    return out


def entity_extras(lookup: EntityLookup, *, features: bool) -> dict[str, Any]:
    """The entity-scoring fields of a prediction response."""
    extra: dict[str, Any] = {"missing": lookup.missing}
    if features:
        extra["features"] = lookup.features
    if lookup.applied:
        extra["applied"] = lookup.applied
    return extra


class FeatureRoutes:
    """``POST /v1/features/online`` and ``POST /v1/features/{group}/push`` over a project."""

    def __init__(self, project: Project, log: EventLogWriter) -> None:
        self.project = project
        self.log = log

    def online(self, doc: Any) -> dict[str, Any]:
        """``{"features": [...], "entities": [{key: value}], "at": ISO?}`` -> rows, missing."""
        from shipyard.features import get_online_features

        if not isinstance(doc, dict):
            raise InvalidInput(
                'The body must be {"features": ["group:feature", ...], "entities": '
                "[{key: value}, ...]}. Got a " + type(doc).__name__ + "."
            )
        features, entities = doc.get("features"), doc.get("entities")
        if not isinstance(features, list) or not features:
            raise InvalidInput(
                '"features" must be a non-empty list of "GROUP" or "GROUP:feature,...". '
                f"Got {features!r}."
            )
        if not isinstance(entities, list) or not entities:
            raise InvalidInput(
                f'"entities" must be a non-empty list of objects of key values. Got {entities!r}.'
            )
        if not all(isinstance(e, dict) for e in entities):
            raise InvalidInput('Each of "entities" must be an object {key column: value}.')
        at = doc.get("at")
        if at is not None and not isinstance(at, str):
            raise InvalidInput(f'"at" must be an ISO-8601 time. Got {at!r}.')
        got = get_online_features(self.project, entities, features, at)
        rows = [got.row(i) for i in range(len(entities))]
        return {"rows": rows, "missing": got.missing}

    def push(self, group: str, doc: Any) -> dict[str, Any]:
        """``{"rows": [event, ...]}`` (or a bare list) -> the push report."""
        from shipyard.features import push

        rows = doc.get("rows") if isinstance(doc, dict) else doc
        if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
            raise InvalidInput(
                'The body must be {"rows": [{column: value, ...}, ...]} with at least one '
                "event, each an object of the group's source columns."
            )
        return push(self.project, group, rows, log=self.log).to_dict()
