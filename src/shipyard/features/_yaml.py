"""Load feature definitions from a YAML file or a Python module into a :class:`FeatureSet`.

The YAML schema::

    entities:
      - name: subscriber
        keys: [subscriber_id]
    feature_groups:
      - name: usage
        entity: subscriber
        source: usage            # a dataset
        event_time: event_time
        ttl: 7d                  # optional
        owner: fraud-team        # optional; also description, tags, stream, allowed_lateness
        features:
          - column: plan                       # a plain column (name: defaults to the column)
          - aggregate: sum                     # one feature per window: sum_bytes_1h, ...
            column: bytes
            windows: [1h, 24h, 7d]
            filter: "record_type = 'data'"
          - derived: data_share_1h
            expression: sum_bytes_1h / nullif(sum_bytes_7d, 0)

Errors name the file, the line and the field. A Python file's module-level :class:`Entity` and
:class:`FeatureGroup` objects are collected in the order they are defined.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
import uuid
from pathlib import Path
from typing import Any

import yaml

from shipyard.errors import InvalidInput, NotFound, ShipyardError, did_you_mean
from shipyard.features._spec import (
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

__all__ = ["load_definitions", "load_python", "load_yaml"]

_TOP = ("entities", "feature_groups")
_ENTITY = ("name", "keys", "description")
_GROUP = (
    "name", "entity", "source", "event_time", "ttl", "owner", "description", "tags", "stream",
    "allowed_lateness", "features",
)  # fmt: skip
_FEATURE = {
    "column": ("column", "name", "description", "tags"),
    "aggregate": (
        "aggregate", "column", "window", "windows", "filter", "name", "description", "tags",
    ),
    "derived": ("derived", "expression", "description", "tags"),
}  # fmt: skip


class _Doc:
    """A composed YAML document whose nodes keep their line numbers."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, node: yaml.Node, field: str, message: str) -> InvalidInput:
        return InvalidInput(
            f"{self.path}, line {node.start_mark.line + 1}, field '{field}': {message}",
            details={"file": str(self.path), "line": node.start_mark.line + 1, "field": field},
        )

    def mapping(self, node: yaml.Node, field: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, field, "expected a mapping of 'key: value' lines.")
        out: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key not in allowed:
                raise self.fail(
                    key_node,
                    f"{field}.{key}",
                    f"unknown field '{key}'.{did_you_mean(key, allowed)} "
                    f"Fields: {', '.join(allowed)}.",
                )
            out[key] = value_node
        return out

    def items(self, node: yaml.Node, field: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, field, "expected a list ('- ...' lines).")
        return list(node.value)

    @staticmethod
    def value(node: yaml.Node) -> Any:
        loader = yaml.SafeLoader("")
        try:
            return loader.construct_object(node, deep=True)
        finally:
            loader.dispose()

    def scalars(self, fields: dict[str, yaml.Node], where: str) -> dict[str, Any]:
        out = {}
        for key, node in fields.items():
            value = self.value(node)
            if key in ("tags", "keys", "windows"):
                value = [value] if isinstance(value, str) else value
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise self.fail(node, f"{where}.{key}", "expected a list of names.")
                value = tuple(value)
            out[key] = value
        return out

    def build(self, node: yaml.Node, field: str, make: Any, **kwargs: Any) -> Any:
        try:
            return make(**kwargs)
        except ShipyardError as exc:
            raise self.fail(node, field, exc.message) from None
        except TypeError as exc:
            raise self.fail(node, field, f"a required field is missing ({exc}).") from None


def _features(doc: _Doc, node: yaml.Node, where: str) -> list[Feature]:
    out: list[Feature] = []
    for i, item in enumerate(doc.items(node, where)):
        field = f"{where}[{i}]"
        keys = (
            {str(k.value) for k, _ in item.value} if isinstance(item, yaml.MappingNode) else set()
        )
        kinds: list[str] = [k for k in ("aggregate", "derived") if k in keys] or (
            ["column"] if "column" in keys else []
        )
        if len(kinds) != 1:
            raise doc.fail(
                item, field, "a feature has exactly one of 'column', 'aggregate' or 'derived'."
            )
        kind = kinds[0]
        nodes = doc.mapping(item, field, _FEATURE[kind])
        values = doc.scalars(nodes, field)
        if kind == "column":
            out.append(doc.build(item, field, Column, **values))
        elif kind == "derived":
            values["name"] = values.pop("derived")
            out.append(doc.build(item, field, Derived, **values))
        else:
            window_node = nodes.get("windows", nodes.get("window", item))
            out.extend(_aggregates(doc, item, window_node, field, values))
    return out


def _aggregates(
    doc: _Doc, node: yaml.Node, window_node: yaml.Node, field: str, values: dict[str, Any]
) -> list[Feature]:
    values["function"] = values.pop("aggregate")
    windows = values.pop("windows", None)
    if windows is not None and "window" in values:
        raise doc.fail(node, field, "give 'window' or 'windows', not both.")
    if windows is None:
        windows = (values.pop("window", "1d"),)
    # With several windows a name is a stem: name: voice_out_s -> voice_out_s_1h, _24h, ...
    stem = values.pop("name", None) if len(windows) > 1 else None
    if "function" in values:
        doc.build(node, field, Aggregate, **{**values, "window": "1h"})  # name the bad function
    return [
        doc.build(
            window_node,
            f"{field}.windows",
            Aggregate,
            **values,
            window=w,
            **({"name": f"{stem}_{_window_text(doc, window_node, field, w)}"} if stem else {}),
        )
        for w in windows
    ]


def _window_text(doc: _Doc, node: yaml.Node, field: str, window: Any) -> str:
    try:
        return format_duration(parse_duration(window, "a window"))
    except ShipyardError as exc:
        raise doc.fail(node, f"{field}.windows", exc.message) from None


def _group(doc: _Doc, node: yaml.Node, field: str) -> FeatureGroup:
    fields = doc.mapping(node, field, _GROUP)
    feature_node = fields.pop("features", None)
    if feature_node is None:
        raise doc.fail(node, f"{field}.features", "a feature group needs 'features'.")
    values = doc.scalars(fields, field)
    for required in ("name", "entity", "source", "event_time"):
        if required not in values:
            raise doc.fail(node, f"{field}.{required}", f"the group needs '{required}'.")
    features = _features(doc, feature_node, f"{field}.features")
    for key in ("ttl", "allowed_lateness"):
        if key in values:
            doc.build(fields[key], f"{field}.{key}", parse_duration, value=values[key], what=key)
    return doc.build(node, field, FeatureGroup, **values, features=tuple(features))


def _entity(doc: _Doc, node: yaml.Node, field: str) -> Entity:
    values = doc.scalars(doc.mapping(node, field, _ENTITY), field)
    result: Entity = doc.build(node, field, Entity, **values)
    return result


def load_yaml(path: str | Path, text: str | None = None) -> FeatureSet:
    """The entities and groups a YAML definitions file declares.

    Raises:
        NotFound: The file does not exist.
        InvalidInput: The file is not valid YAML or breaks the schema; the message names the
            file, the line and the field.
    """
    path = Path(path)
    if text is None:
        try:
            text = path.read_text()
        except FileNotFoundError:
            raise NotFound(f"No definitions file at {path}.") from None
    doc = _Doc(path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark is not None else ""
        why = getattr(exc, "problem", None) or str(exc)
        raise InvalidInput(f"{path}{line}: not valid YAML ({why}).") from None
    if root is None:
        raise InvalidInput(f"{path} is empty. Declare 'entities' and 'feature_groups'.")
    top = doc.mapping(root, "(top)", _TOP)
    entities = [
        _entity(doc, n, f"entities[{i}]")
        for i, n in enumerate(doc.items(top["entities"], "entities") if "entities" in top else [])
    ]
    groups = [
        _group(doc, n, f"feature_groups[{i}]")
        for i, n in enumerate(
            doc.items(top["feature_groups"], "feature_groups") if "feature_groups" in top else []
        )
    ]
    return FeatureSet(tuple(entities), tuple(groups))


def load_python(path: str | Path) -> FeatureSet:
    """The module-level Entity and FeatureGroup objects of a Python file, in order.

    Raises:
        NotFound: The file does not exist.
        InvalidInput: Running the file failed; the message names the file and the line.
    """
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"No definitions file at {path}.")
    name = f"_shipyard_features_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InvalidInput(f"{path} cannot be loaded as a Python module.")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
        line = f", line {frames[-1].lineno}" if frames else ""
        message = exc.message if isinstance(exc, ShipyardError) else f"{type(exc).__name__}: {exc}"
        raise InvalidInput(f"{path}{line}: {message}") from None
    finally:
        sys.modules.pop(name, None)
    items: list[Entity | FeatureGroup] = []
    for value in vars(module).values():
        if isinstance(value, FeatureSet):
            items.extend([*value.entities, *value.groups])
        elif isinstance(value, Entity | FeatureGroup):
            items.append(value)
    return FeatureSet.of(dict.fromkeys(items))


def load_definitions(path: str | Path) -> FeatureSet:
    """A ``.py`` file by :func:`load_python`, anything else by :func:`load_yaml`."""
    return load_python(path) if str(path).endswith(".py") else load_yaml(path)
