"""The features commands through the real CLI: a training set with late labels, and each bad
input ending as a message and exit 1, never a traceback."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.e2e.cli import shipyard

DEFS = """\
entities:
  - name: subscriber
    keys: [sid]
feature_groups:
  - name: usage
    entity: subscriber
    source: usage
    event_time: ts
    features:
      - column: plan
      - aggregate: count
        windows: [1d]
"""


def _ts(*days: int) -> pa.Array:
    return pa.array([datetime(2024, 1, d) for d in days], pa.timestamp("us"))


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("features")
    pq.write_table(pa.table({"sid": ["a", "a", "b"], "ts": _ts(1, 2, 2), "plan": ["x", "y", "z"]}),
                   root / "usage.parquet")  # fmt: skip
    pq.write_table(pa.table({"sid": ["a", "b", "c"], "at": _ts(3, 3, 3), "day": [3, 3, 3],
                             "at_text": ["x", "y", "z"]}), root / "spine.parquet")  # fmt: skip
    pq.write_table(pa.table({"sid": ["a", "b"], "day": [3, 3], "fraud": [1, 0],
                             "confirmed_at": _ts(4, 9)}), root / "labels.parquet")  # fmt: skip
    shipyard(root, "init")
    for name in ("usage", "spine", "labels"):
        shipyard(root, "ingest", str(root / f"{name}.parquet"), "--name", name)
    (root / "f.yaml").write_text(DEFS)
    shipyard(root, "features", "apply", "f.yaml")
    return root


def test_training_set_uses_only_labels_known_by_the_cut_off(root: Path) -> None:
    args = ["features", "training-set", "--spine", "spine", "--entity", "sid", "--time", "at",
            "--features", "usage", "--labels", "labels", "--label", "fraud",
            "--label-join", "sid,day", "--labels-known-by", "2024-01-05"]  # fmt: skip
    out = shipyard(root, *args, "--name", "train_a", "--label-default", "0").stdout
    assert "1 known by the cut-off, 2 not known yet or missing" in out
    rows = json.loads(
        shipyard(
            root, "sql", "SELECT sid, plan, count_24h, fraud FROM train_a ORDER BY sid", "--json"
        ).stdout
    )
    assert [(r["sid"], r["plan"], r["count_24h"], r["fraud"]) for r in rows] == [
        ("a", "y", 0, 1),
        ("b", "z", 0, 0),
        ("c", None, 0, 0),
    ]  # events exactly 24h before the spine time fall outside the 24h window
    dropped = shipyard(root, *args, "--name", "train_b").stdout
    assert "dropped (2 rows)" in dropped
    listing = json.loads(shipyard(root, "features", "list", "--json").stdout)
    assert [g["name"] for g in listing] == ["usage"]
    assert "count_24h" in shipyard(root, "features", "show", "usage").stdout


BAD = [
    (["features", "show", "usag"], "Did you mean 'usage'"),
    (["--features", "usag"], "Did you mean 'usage'"),
    (["--features", "usage:plam"], "Did you mean 'plan'"),
    (["--entity", "sidd"], "Did you mean 'sid'"),
    (["--time", "att"], "Did you mean 'at'"),
    (["--time", "at_text"], "not a timestamp"),
]


@pytest.mark.parametrize(("change", "message"), BAD)
def test_bad_inputs_end_as_a_message(root: Path, change: list[str], message: str) -> None:
    args = {"--spine": "spine", "--entity": "sid", "--time": "at", "--features": "usage",
            "--name": "out"}  # fmt: skip
    if change[0] == "features":
        command = change
    else:
        args[change[0]] = change[1]
        command = ["features", "training-set", *[x for kv in args.items() for x in kv]]
    proc = shipyard(root, *command, check=False)
    assert proc.returncode == 1 and message in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("windows: [1d]", "windows: [1 day]"), "line 12"),
        (("entity: subscriber", "entity: subscribr"), "Did you mean 'subscriber'"),
        (("aggregate: count", "aggregate: sum\n        column: plan"), "numeric or boolean"),
        (("event_time: ts", "event_time: plan"), "not a timestamp"),
    ],
)
def test_bad_definitions_end_as_a_message(
    root: Path, change: tuple[str, str], message: str
) -> None:
    (root / "bad.yaml").write_text(DEFS.replace(*change))
    proc = shipyard(root, "features", "apply", "bad.yaml", check=False)
    assert proc.returncode == 1 and message in proc.stderr and "Traceback" not in proc.stderr
