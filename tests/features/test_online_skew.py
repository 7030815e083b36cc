"""Skew check, lateness accounting and push validation."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from shipyard.errors import InvalidInput
from shipyard.features import check_skew, get_online_features, materialize, push
from shipyard.features._codec import head_dtype
from shipyard.features._plan import table_name
from shipyard.features._resolve import group_plan
from shipyard.project import Project
from tests.features._online_data import make_events, setup


def test_materialize_then_skew_check_passes(project: Project) -> None:
    setup(project, make_events(np.random.default_rng(10)))
    materialize(project)
    report = check_skew(project, "usage", sample=50)
    assert report.entities == 12 and report.ok, report.mismatches


def test_skew_check_finds_a_corrupted_online_value(project: Project) -> None:
    setup(project, make_events(np.random.default_rng(11)))
    materialize(project)
    plan = group_plan(project, "usage")
    store = project.online
    (blob,) = store.get(table_name(plan.group), ["S001"])
    assert blob is not None
    # Move the entity's newest record to 1970: its windows now miss one event.
    count = int.from_bytes(blob[4:8], "little")
    at = head_dtype(len(plan.columns)).itemsize + (count - 1) * plan.dtype.itemsize
    corrupted = bytearray(blob)
    corrupted[at : at + 8] = (0).to_bytes(8, "little")
    store.put(table_name(plan.group), {"S001": bytes(corrupted)})
    report = check_skew(project, "usage", sample=50)
    assert not report.ok
    assert {m["entity"] for m in report.mismatches} == {"S001"}


def test_late_events_are_counted_reported_and_logged(project: Project) -> None:
    events = make_events(np.random.default_rng(12))
    setup(project, events)
    materialize(project)
    newest = events["ts"].max()
    key = events.loc[events["ts"] == newest, "subscriber_id"].iloc[-1]
    late = pd.DataFrame(
        {
            "subscriber_id": [key, key],
            "ts": [newest - timedelta(hours=1), newest - timedelta(hours=3)],
            "amount": [1.0, 2.0],
            "kind": ["sms", "sms"],
            "premium": [False, False],
        }
    )
    row = [{"subscriber_id": key}]
    before = get_online_features(project, row, "usage:count_amount_6h", at=newest)
    report = push(project, "usage", late)
    assert (report.received, report.applied, report.late, report.logged) == (2, 1, 1, 2)
    assert report.late_examples[0][0] == key
    after = get_online_features(project, row, "usage:count_amount_6h", at=newest)
    # the event 3 h behind the newest is beyond the 2 h lateness: only one was applied
    assert after.row()["count_amount_6h"] == before.row()["count_amount_6h"] + 1
    # offline has both, so the skew check reports the entity that got the late event
    skew = check_skew(project, "usage", sample=50)
    assert {m["entity"] for m in skew.mismatches} == {key}


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda f: f.drop(columns=["amount"]), "missing 'amount'"),
        (lambda f: f.assign(extra=1), "unexpected 'extra'"),
        (lambda f: f.assign(amount="lots"), "Column 'amount'"),
    ],
    ids=["missing", "extra", "type"],
)
def test_push_schema_mismatch_names_the_columns(
    project: Project, change: object, named: str
) -> None:
    events = make_events(np.random.default_rng(13))
    setup(project, events)
    materialize(project)
    with pytest.raises(InvalidInput, match=named):
        push(project, "usage", change(events.head(3)))  # type: ignore[operator]
    assert push(project, "usage", events.head(0)).logged == 0
