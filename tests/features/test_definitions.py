"""YAML and Python definitions, validation against the source, and apply's versioning."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shipyard.errors import InvalidInput, NotFound
from shipyard.features import apply, get_group, list_groups, load_definitions
from shipyard.ingest import ingest_path
from shipyard.project import Project

GOOD = """\
entities:
  - name: subscriber
    keys: [sid]
feature_groups:
  - name: usage
    entity: subscriber
    source: usage
    event_time: ts
    ttl: 7d
    features:
      - column: plan
      - aggregate: sum
        column: bytes
        windows: [1h, 24h]
        filter: "kind = 'data'"
      - derived: share
        expression: sum_bytes_1h / nullif(sum_bytes_24h, 0)
"""

PYTHON = """\
from shipyard.features import Aggregate, Column, Derived, Entity, FeatureGroup

subscriber = Entity("subscriber", ("sid",))
usage = FeatureGroup(
    name="usage", entity="subscriber", source="usage", event_time="ts", ttl="7d",
    features=[
        Column("plan"),
        Aggregate("sum", "bytes", "1h", filter="kind = 'data'"),
        Aggregate("sum", "bytes", "24h", filter="kind = 'data'"),
        Derived("share", "sum_bytes_1h / nullif(sum_bytes_24h, 0)"),
    ],
)
"""


@pytest.fixture
def usage(project: Project, tmp_path: Path) -> Project:
    table = pa.table(
        {
            "sid": ["a", "b"],
            "ts": pa.array([datetime(2024, 1, 1), datetime(2024, 1, 2)], pa.timestamp("us")),
            "ts_text": ["2024-01-01", "2024-01-02"],
            "bytes": [1.0, 2.0],
            "kind": ["data", "voice"],
            "plan": ["x", "y"],
        }
    )
    pq.write_table(table, tmp_path / "usage.parquet")
    ingest_path(project, tmp_path / "usage.parquet", "usage")
    return project


def test_yaml_and_python_load_the_same_objects(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text(GOOD)
    (tmp_path / "f.py").write_text(PYTHON)
    assert load_definitions(tmp_path / "f.yaml") == load_definitions(tmp_path / "f.py")


@pytest.mark.parametrize(
    ("change", "line", "field", "message"),
    [
        (("ttl: 7d", "ttl: 7 days"), 9, "feature_groups[0].ttl", "positive duration"),
        (("windows: [1h, 24h]", "windows: [1h, 24hours]"), 14, "features[1].windows", "window"),
        (("aggregate: sum", "aggregate: summ"), 12, "features[1]", "Did you mean 'sum'"),
        (("    ttl: 7d", "    tll: 7d"), 9, "feature_groups[0].tll", "Did you mean 'ttl'"),
        (("- column: plan", "- colum: plan"), 11, "features[0]", "exactly one of"),
        (("keys: [sid]", "keys: {a: 1}"), 3, "entities[0].keys", "list of names"),
    ],
)
def test_yaml_errors_name_the_line_and_field(
    tmp_path: Path, change: tuple[str, str], line: int, field: str, message: str
) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(GOOD.replace(*change))
    with pytest.raises(InvalidInput) as info:
        load_definitions(path)
    text = info.value.message
    assert f"f.yaml, line {line}, field '" in text and field in text and message in text


def test_yaml_syntax_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(GOOD.replace("    source: usage", "    source: [usage"))
    with pytest.raises(InvalidInput, match=r"f.yaml, line \d+: not valid YAML"):
        load_definitions(path)


def test_apply_versions_only_changed_groups(usage: Project, tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(GOOD)
    first = apply(usage, path)
    assert [(d.ref, d.changed) for d in first.groups] == [("usage:1", True)]
    assert [(d.ref, d.changed) for d in apply(usage, path).groups] == [("usage:1", False)]
    path.write_text(GOOD.replace("ttl: 7d", "ttl: 3d"))
    assert [(d.ref, d.changed) for d in apply(usage, path).groups] == [("usage:2", True)]
    assert (
        get_group(usage, "usage").ttl == 3 * 86400 and get_group(usage, "usage", 1).ttl == 7 * 86400
    )
    assert [g.ref for g in list_groups(usage)] == ["usage:2"]


@pytest.mark.parametrize(
    ("change", "kind", "message"),
    [
        (("keys: [sid]", "keys: [sidd]"), NotFound, "Did you mean 'sid'"),
        (("event_time: ts", "event_time: ts_text"), InvalidInput, "is VARCHAR, not a timestamp"),
        (("column: bytes", "column: kind"), InvalidInput, "needs a numeric or boolean column"),
        (("column: plan", "column: plann"), NotFound, "Did you mean 'plan'"),
        (("kind = 'data'", "kind = "), InvalidInput, "not a valid SQL predicate"),
        (("kind = 'data'", "bytes + 1"), InvalidInput, "must be true or false"),
        (("sum_bytes_1h /", "sum_byte_1h /"), InvalidInput, "Did you mean 'sum_bytes_1h'"),
        (("entity: subscriber", "entity: subscribr"), NotFound, "Did you mean 'subscriber'"),
        (("source: usage", "source: usag"), NotFound, "Did you mean 'usage'"),
    ],
)
def test_validation_errors_are_clear_and_write_nothing(
    usage: Project, tmp_path: Path, change: tuple[str, str], kind: type, message: str
) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(GOOD.replace(*change) + GOOD.split("feature_groups:\n")[1].replace(
        "name: usage", "name: usage_two"
    ))  # fmt: skip
    with pytest.raises(kind, match=message):
        apply(usage, path)
    assert usage.catalog.list_feature_definitions("group") == []
    assert usage.catalog.list_feature_definitions("entity") == []
