"""historical_features equals a brute-force reading of the spec, row for row, on random data."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shipyard.errors import InvalidInput
from shipyard.features import (
    Aggregate,
    Column,
    Derived,
    Entity,
    FeatureGroup,
    FeatureSet,
    append_log,
    apply,
    historical_features,
)
from shipyard.features._window import Strategy
from shipyard.ingest import ingest_path
from shipyard.project import Project
from tests.features._brute import features_at

T0 = datetime(2024, 3, 1)
STEP = timedelta(minutes=30)  # events and spine share one grid: ties and window edges happen
FILTERS = {
    "kind = 'a'": lambda e: e["kind"] == "a",
    "x > 0.5": lambda e: None if e["x"] is None else e["x"] > 0.5,
}


def _group(ttl: str | None) -> FeatureGroup:
    aggregates = [
        Aggregate("count", window="30m"),
        Aggregate("count", window="1h"),
        Aggregate("count", "x", window="3h", filter="kind = 'a'"),
        Aggregate("sum", "x", window="1h"),
        Aggregate("sum", "x", window="1d"),
        Aggregate("mean", "x", window="3h", filter="x > 0.5"),
        Aggregate("min", "x", window="3h"),
        Aggregate("max", "x", window="1d", filter="kind = 'a'"),
        Aggregate("stddev", "x", window="1d"),
        Aggregate("count_distinct", "plan", window="1d"),
        Aggregate("last", "plan", window="3h"),
        Aggregate("sum", "flag", window="1d"),
    ]
    return FeatureGroup(
        name="usage",
        entity="line",
        source="usage",
        event_time="ts",
        ttl=ttl,
        features=(
            Column("plan"),
            Column("x", name="x_now"),
            *aggregates,
            Derived("ratio", "sum_x_1h / sum_x_24h"),
            Derived("burst", "count_1h - 2 * count_30m + least(min_x_3h, 0.3)"),
        ),
    )


def _events(rng: np.random.Generator, n: int, ties: bool = True) -> list[dict[str, Any]]:
    def maybe(value: Any, p: float = 0.15) -> Any:
        return None if rng.random() < p else value

    # without ties every event has its own minute: window edges still fall on the grid
    minutes = rng.permutation(96 * 30)[:n] if not ties else rng.integers(0, 96, n) * 30

    return [
        {
            "k1": int(rng.integers(0, 4)),
            "k2": str(rng.choice(["a", "b"])),
            "ts": maybe(T0 + timedelta(minutes=int(minutes[i])), 0.03),
            "x": maybe(round(float(rng.normal(0.5, 1.0)), 3)),
            "kind": maybe(str(rng.choice(["a", "b"]))),
            "plan": maybe(str(rng.choice(["p", "q", "r"]))),
            "flag": maybe(bool(rng.random() < 0.4)),
        }
        for i in range(n)
    ]


_SCHEMA = pa.schema(
    [("k1", pa.int64()), ("k2", pa.string()), ("ts", pa.timestamp("us")), ("x", pa.float64()),
     ("kind", pa.string()), ("plan", pa.string()), ("flag", pa.bool_())]
)  # fmt: skip


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, float) and got is not None:
        return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12)
    return bool(got == want)


@pytest.mark.parametrize("strategy", ["join", "window", "auto"])
@pytest.mark.parametrize("ties", [True, False], ids=["ties", "no_ties"])
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("ttl", [None, "2h"])
def test_point_in_time_values_equal_the_brute_force_reference(
    project: Project, tmp_path: Any, seed: int, ttl: str | None, ties: bool, strategy: Strategy
) -> None:
    rng = np.random.default_rng(seed)
    events = _events(rng, 400, ties)
    cut = 300  # the rest arrives through the pushed-event log, in two parts
    pq.write_table(pa.Table.from_pylist(events[:cut], schema=_SCHEMA), tmp_path / "e.parquet")
    ingest_path(project, tmp_path / "e.parquet", "usage")
    for part in (events[cut:350], events[350:]):
        append_log(project, "usage", pa.Table.from_pylist(part, schema=_SCHEMA))
    group = _group(ttl)
    apply(project, FeatureSet((Entity("line", ("k1", "k2")),), (group,)))

    spine_rows = [
        {
            "line": int(rng.integers(0, 5)),  # 4 has no events
            "sub": None if rng.random() < 0.05 else str(rng.choice(["a", "b"])),
            "at": T0 + STEP * int(rng.integers(-2, 100)),
        }
        for _ in range(250)
    ]
    spine = pa.Table.from_pylist(
        spine_rows,
        schema=pa.schema([("line", pa.int64()), ("sub", pa.string()), ("at", pa.timestamp("us"))]),
    )
    out = historical_features(
        project, spine, entity=["line", "sub"], time="at", features=["usage"], strategy=strategy
    ).to_pylist()

    assert [(r["line"], r["sub"], r["at"]) for r in out] == [
        (r["line"], r["sub"], r["at"]) for r in spine_rows
    ]
    names = [f.name for f in group.features]
    for row in out:
        want = features_at(
            group, ("k1", "k2"), events, (row["line"], row["sub"]), row["at"], FILTERS
        )
        got = {"x_now" if n == "x_now" else n: row[n] for n in names}
        bad = {n: (got[n], want[n]) for n in names if not _same(got[n], want[n])}
        assert not bad, f"row {row}: (ours, reference) differ: {bad}"


def test_equal_timestamps_are_won_by_the_later_row(project: Project, tmp_path: Any) -> None:
    at = T0 + STEP
    rows = [{"k1": 1, "k2": "a", "ts": at, "x": float(i), "kind": "a", "plan": f"p{i}",
             "flag": True} for i in range(5)]  # fmt: skip
    pq.write_table(pa.Table.from_pylist(rows, schema=_SCHEMA), tmp_path / "e.parquet")
    ingest_path(project, tmp_path / "e.parquet", "usage")
    apply(project, FeatureSet((Entity("line", ("k1", "k2")),), (_group(None),)))
    spine = pa.table({"k1": [1], "k2": ["a"], "at": pa.array([at], pa.timestamp("us"))})
    out = historical_features(
        project, spine, entity=["k1", "k2"], time="at", features="usage:plan,last_plan_3h"
    )
    assert out.to_pylist()[0] == {
        "k1": 1, "k2": "a", "at": at, "plan": "p4", "last_plan_3h": "p4"
    }  # fmt: skip
    append_log(project, "usage", pa.Table.from_pylist([{**rows[0], "plan": "late"}], _SCHEMA))
    again = historical_features(
        project, spine, entity=["k1", "k2"], time="at", features="usage:plan"
    )
    assert again.column("plan").to_pylist() == ["late"]


@pytest.mark.parametrize(("spine_rows", "expected"), [(None, "window"), (10, "join")])
def test_auto_picks_windows_for_a_spine_as_dense_as_the_events(
    project: Project, tmp_path: Any, spine_rows: int | None, expected: str
) -> None:
    import duckdb

    from shipyard.features._offline import _register_spine
    from shipyard.features._window import choose_strategy, register_spine_keys

    events = [e for e in _events(np.random.default_rng(0), 400) if e["ts"] is not None]
    pq.write_table(pa.Table.from_pylist(events, schema=_SCHEMA), tmp_path / "e.parquet")
    ingest_path(project, tmp_path / "e.parquet", "usage")
    group = _group(None)
    apply(project, FeatureSet((Entity("line", ("k1", "k2")),), (group,)))
    spine = pa.Table.from_pylist(events[:spine_rows], schema=_SCHEMA)  # the events themselves
    files = project.lake.files(project.catalog.get_dataset_version("usage", None))
    con = duckdb.connect()
    _register_spine(con, spine, "ts")
    register_spine_keys(con, ["k1", "k2"])
    chosen = choose_strategy(
        con, "auto", files, group, ("k1", "k2"), ("k1", "k2"), group.aggregates
    )
    assert chosen == expected


def test_an_unknown_strategy_is_refused(project: Project) -> None:
    spine = pa.table({"k1": [1], "k2": ["a"], "at": pa.array([T0], pa.timestamp("us"))})
    with pytest.raises(InvalidInput, match=r"'strategy' parameter .* Got 'fast'"):
        historical_features(
            project,
            spine,
            entity=["k1", "k2"],
            time="at",
            features="usage",
            strategy="fast",  # type: ignore[arg-type]
        )
