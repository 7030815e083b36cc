"""The online feature commands through the real CLI: values, skew (exit 1), bad input."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

from shipyard.features import get_group
from shipyard.features._codec import head_dtype
from shipyard.features._plan import table_name
from shipyard.features._resolve import group_plan
from shipyard.project import open_project
from tests.e2e.cli import shipyard
from tests.features._online_data import make_events, setup


def test_materialize_online_push_and_skew_through_the_cli(tmp_path: Path) -> None:
    root = tmp_path / "p"
    shipyard(tmp_path, "init", str(root))
    events = make_events(np.random.default_rng(30))
    with open_project(root) as project:
        setup(project, events)
    out = shipyard(root, "features", "materialize", "usage", "--json")
    assert json.loads(out.stdout)[0]["entities"] == 12
    shown = shipyard(root, "features", "online", "usage", "--entity", "S001", "--json")
    assert set(json.loads(shown.stdout)["values"]) >= {"count_1h", "ratio", "last_kind"}
    ok = shipyard(root, "features", "check-skew", "usage", "--sample", "20")
    assert "no skew" in ok.stdout
    # Corrupt one entity's state: the skew check fails with exit 1 and names it.
    with open_project(root) as project:
        group = get_group(project, "usage")
        (blob,) = project.online.get(table_name(group), ["S003"])
        assert blob is not None
        plan = group_plan(project, "usage")
        width = head_dtype(len(plan.columns)).itemsize
        (count,) = struct.unpack_from("<I", blob, 4)
        head = blob[:4] + struct.pack("<I", 0) + blob[8:width]
        emptied = head + blob[width + count * plan.dtype.itemsize :]
        project.online.put(table_name(group), {"S003": emptied})  # its events are gone
    bad = shipyard(root, "features", "check-skew", "usage", "--sample", "20", check=False)
    assert bad.returncode == 1 and "SKEW" in bad.stdout and "S003" in bad.stdout
    assert "Traceback" not in bad.stderr


def test_bad_input_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    root = tmp_path / "p"
    shipyard(tmp_path, "init", str(root))
    events = make_events(np.random.default_rng(31))
    with open_project(root) as project:
        setup(project, events)
    wrong = tmp_path / "wrong.csv"
    events.drop(columns=["amount"]).head(3).to_csv(wrong, index=False)
    cases = [
        (("features", "push", "usage", str(wrong)), "missing 'amount'"),
        (("features", "materialize", "usage_x"), "Did you mean 'usage'"),
        (("features", "consume", "usage", "--stream", "redis://:pw9@127.0.0.1:1/0/s"), "***"),
        (("features", "online", "usage", "--entity", "a", "--entity", "b"), "one --entity"),
    ]
    for args, message in cases:
        proc = shipyard(root, *args, check=False)
        assert proc.returncode == 1, args
        assert message in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr and "pw9" not in proc.stderr
