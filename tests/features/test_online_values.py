"""Online values equal a brute-force reading of the definition, at window edges too."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from shipyard.features import get_online_features, materialize, push
from shipyard.project import Project
from tests.features._online_data import brute, close, make_events, setup, usage_group


def _check(project: Project, events: pd.DataFrame, at: object) -> None:
    group = usage_group()
    keys = sorted(events["subscriber_id"].unique())
    got = get_online_features(project, [{"subscriber_id": k} for k in keys], "usage", at=at)
    assert not got.missing
    for i, key in enumerate(keys):
        want = brute(events, group, key, at)  # type: ignore[arg-type]
        row = got.row(i)
        bad = {n: (row[n], v) for n, v in want.items() if not close(row[n], v)}
        assert not bad, f"{key} at {at}: {bad}"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_materialized_values_equal_brute_force(project: Project, seed: int) -> None:
    events = make_events(np.random.default_rng(seed))
    setup(project, events)
    (report,) = materialize(project)
    assert report.entities == events["subscriber_id"].nunique()
    newest = events["ts"].max()
    _check(project, events, newest)
    # A window edge: an event sits exactly at T - 1h (outside) and T - 6h (outside).
    _check(project, events, newest + timedelta(hours=1) - timedelta(seconds=1))
    _check(project, events, newest + timedelta(hours=1))


def test_event_at_exactly_t_is_inside_and_at_t_minus_w_outside(project: Project) -> None:
    events = make_events(np.random.default_rng(3))
    setup(project, events)
    materialize(project)
    newest = events["ts"].max()
    key = events.loc[events["ts"] == newest, "subscriber_id"].iloc[0]
    at_event = get_online_features(project, [{"subscriber_id": key}], "usage:count_1h", at=newest)
    just_after = get_online_features(
        project, [{"subscriber_id": key}], "usage:count_1h", at=newest + timedelta(hours=1)
    )
    inside = int(((events["subscriber_id"] == key) & (events["ts"] == newest)).sum())
    assert at_event.row()["count_1h"] >= inside >= 1
    assert just_after.row()["count_1h"] == 0


def test_ttl_expires_column_values(project: Project) -> None:
    events = make_events(np.random.default_rng(4))
    setup(project, events)
    materialize(project)
    key = events["subscriber_id"].iloc[0]
    newest = events.loc[events["subscriber_id"] == key, "ts"].max()
    fresh = get_online_features(
        project, [{"subscriber_id": key}], "usage:last_kind", at=newest + timedelta(hours=11)
    )
    stale = get_online_features(
        project, [{"subscriber_id": key}], "usage:last_kind", at=newest + timedelta(hours=12)
    )
    assert fresh.row()["last_kind"] is not None
    assert stale.row()["last_kind"] is None


def test_pushed_events_in_any_order_equal_brute_force(project: Project) -> None:
    rng = np.random.default_rng(5)
    events = make_events(rng, n=900)
    cut = events["ts"].min() + (events["ts"].max() - events["ts"].min()) / 3
    first, rest = events[events["ts"] < cut], events[events["ts"] >= cut]
    setup(project, first)
    materialize(project)
    # Pushed in small shuffled batches: out of order, but within the allowed lateness of 2h
    # once sorted by hour blocks.
    rest = rest.sort_values("ts", kind="stable")
    shuffled = [
        block.sample(frac=1.0, random_state=int(rng.integers(1 << 30)))
        for _, block in rest.groupby(rest["ts"].dt.floor("h"), sort=True)
    ]
    late = sum(push(project, "usage", block).late for block in shuffled)
    assert late == 0
    # Ties at one timestamp resolve by arrival: the brute force reads the pushed order.
    _check(project, pd.concat([first, *shuffled]), events["ts"].max())


def test_missing_entity_reads_as_empty_and_is_reported(project: Project) -> None:
    setup(project, make_events(np.random.default_rng(6)))
    materialize(project)
    got = get_online_features(
        project, [{"subscriber_id": "S000"}, {"subscriber_id": "nobody"}], "usage"
    )
    assert got.missing == {"usage": [1]}
    row = got.row(1)
    assert row["count_1h"] == 0 and row["count_distinct_kind_6h"] == 0
    assert row["sum_amount_1h"] is None and row["last_amount"] is None


def test_materialize_since_rebuilds_exactly_the_entities_with_later_events(
    project: Project,
) -> None:
    events = make_events(np.random.default_rng(5))
    setup(project, events)
    newest = events.groupby("subscriber_id")["ts"].max()
    since = newest.sort_values().iloc[len(newest) // 2]
    (report,) = materialize(project, since=since)
    keys = sorted(newest.index)
    got = get_online_features(project, [{"subscriber_id": k} for k in keys], "usage")
    assert {keys[i] for i in got.missing["usage"]} == set(newest[newest < since].index)
    assert report.entities == int((newest >= since).sum())
    at = events["ts"].max()
    rebuilt = events[events["subscriber_id"].isin(newest[newest >= since].index)]
    _check(project, rebuilt, at)
