"""The catalog's listings, a page at a time, on every backend: SQLite always, PostgreSQL when
SHIPYARD_TEST_POSTGRES_URL is set. Paging through yields each item once, in the asked order."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests._postgres import postgres_schema_url

from shipyard.catalog import Catalog, open_catalog
from shipyard.catalog.paging import Page, PageQuery
from shipyard.entities import Actor, ColumnSchema
from shipyard.errors import InvalidInput

ACTOR = Actor("tester", "sdk")


@pytest.fixture(params=["sqlite", "postgres"])
def catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Catalog]:
    if request.param == "sqlite":
        cat = open_catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
        yield cat
        cat.close()
        return
    with postgres_schema_url() as url:
        cat = open_catalog(url)
        try:
            yield cat
        finally:
            cat.close()


def walk(read: Callable[[PageQuery], Page[Any]], **query: Any) -> list[Any]:
    """Every item of a listing, read a page at a time."""
    items: list[Any] = []
    cursor = None
    for _ in range(1000):
        page = read(PageQuery(cursor=cursor, **query))
        assert len(page.items) <= query.get("limit", 50)
        items.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return items
    raise AssertionError("the listing never ended")


@pytest.fixture
def runs(catalog: Catalog) -> list[Any]:
    """31 runs in two experiments: names repeat, some lack the metric, some tie on it."""
    made = []
    for i in range(31):
        run = catalog.create_run(
            experiment="fraud" if i % 3 else "churn",
            name=f"trial-{i % 7}",
            params={},
            tags={"kind": "trial" if i % 5 else "automl", "parent_run": "p1"},
            inputs={},
            actor=ACTOR,
        )
        metrics = {} if i % 4 == 0 else {"test.roc_auc": round((i % 6) / 10, 1)}
        if i % 9 == 0:
            metrics = {"test.roc_auc": "n/a"}  # not a number: sorted with the missing ones
        made.append(catalog.finish_run(run.id, status="finished", metrics=metrics, actor=ACTOR))
    return made


def _metric(run: Any) -> float | None:
    value = run.metrics.get("test.roc_auc")
    return value if isinstance(value, float) else None


@pytest.mark.parametrize("descending", [True, False], ids=["desc", "asc"])
@pytest.mark.parametrize("sort", ["started_at", "name", "experiment", "metrics.test.roc_auc"])
def test_runs_page_through_once_each_in_order(
    catalog: Catalog, runs: list[Any], sort: str, descending: bool
) -> None:
    got = walk(catalog.page_runs, sort=sort, descending=descending, limit=4)
    assert sorted(r.id for r in got) == sorted(r.id for r in runs)
    if sort.startswith("metrics."):
        present = [_metric(r) for r in got if _metric(r) is not None]
        assert present == sorted(present, reverse=descending)
        missing = [r for r in got if _metric(r) is None]
        assert got[len(present) :] == missing  # runs without the metric come last
    else:
        keys = [getattr(r, sort) for r in got]
        assert keys == sorted(keys, reverse=descending)


def test_runs_filters_combine(catalog: Catalog, runs: list[Any]) -> None:
    got = walk(catalog.page_runs, filters={"experiment": "fraud", "kind": "trial"}, limit=3)
    expected = {r.id for r in runs if r.experiment == "fraud" and r.tags["kind"] == "trial"}
    assert {r.id for r in got} == expected and len(got) == len(expected)
    assert walk(catalog.page_runs, filters={"parent": "nobody"}) == []


def test_a_page_started_before_new_runs_arrive_neither_repeats_nor_skips(
    catalog: Catalog, runs: list[Any]
) -> None:
    first = catalog.page_runs(PageQuery(limit=10))
    catalog.create_run(experiment="fraud", name="late", params={}, tags={}, inputs={}, actor=ACTOR)
    cursor, seen = first.next_cursor, [r.id for r in first.items]
    while cursor:
        page = catalog.page_runs(PageQuery(limit=10, cursor=cursor))
        seen += [r.id for r in page.items]
        cursor = page.next_cursor
    # the new run sorts before the first page (it is the newest): never seen, never repeated
    assert sorted(seen) == sorted(r.id for r in runs)


def test_a_cursor_works_only_with_its_own_query(catalog: Catalog, runs: list[Any]) -> None:
    cursor = catalog.page_runs(PageQuery(limit=5)).next_cursor
    with pytest.raises(InvalidInput, match="another query"):
        catalog.page_runs(PageQuery(limit=5, cursor=cursor, filters={"experiment": "fraud"}))
    with pytest.raises(InvalidInput, match="another query"):
        catalog.page_runs(PageQuery(limit=5, cursor=cursor, descending=False))
    with pytest.raises(InvalidInput, match="not a cursor"):
        catalog.page_runs(PageQuery(cursor="not-a-cursor!!"))


def test_bad_sorts_filters_and_limits_are_refused(catalog: Catalog) -> None:
    with pytest.raises(InvalidInput, match="Did you mean 'started_at'"):
        catalog.page_runs(PageQuery(sort="started"))
    with pytest.raises(InvalidInput, match="filtered by colour"):
        catalog.page_runs(PageQuery(filters={"colour": "red"}))
    for limit in (0, 1001):
        with pytest.raises(InvalidInput, match="'limit'"):
            catalog.page_runs(PageQuery(limit=limit))
    with pytest.raises(InvalidInput, match="metrics"):
        catalog.page_runs(PageQuery(sort="metrics.bad'key"))


def test_experiments_summarize_their_runs(catalog: Catalog, runs: list[Any]) -> None:
    got = walk(catalog.page_experiments, limit=1)
    assert [(e.name, e.runs) for e in got] == [("churn", 11), ("fraud", 20)]
    assert got[1].last_started_at == max(r.started_at for r in runs if r.experiment == "fraud")
    assert [e.name for e in walk(catalog.page_experiments, filters={"prefix": "fr"})] == ["fraud"]


def _dataset(catalog: Catalog, name: str, rows: int) -> Any:
    return catalog.create_dataset_version(
        name,
        fingerprint=f"{name}{rows}",
        columns=[ColumnSchema("a", "BIGINT")],
        num_rows=rows,
        num_bytes=rows * 8,
        source="csv:/x.csv",
        location=f"{name}/{rows}",
        actor=ACTOR,
    )


def test_datasets_list_each_latest_version_and_versions_page(catalog: Catalog) -> None:
    for name, rows in [("usage", 10), ("labels", 5), ("usage", 30), ("usage_2", 7), ("usage", 20)]:
        _dataset(catalog, name, rows)
    latest = walk(catalog.page_datasets, limit=2)
    assert [v.ref for v in latest] == ["labels@1", "usage@3", "usage_2@1"]
    # "_" is a LIKE wildcard: a prefix matches it literally
    assert [v.ref for v in walk(catalog.page_datasets, filters={"prefix": "usage_"})] == [
        "usage_2@1"
    ]
    by_rows = walk(catalog.page_datasets, sort="num_rows", descending=True)
    assert [v.num_rows for v in by_rows] == [20, 7, 5]
    versions = walk(catalog.page_dataset_versions, filters={"name": "usage"}, limit=2)
    assert [v.version for v in versions] == [3, 2, 1]


def _model(catalog: Catalog, name: str, *, pending: bool = False) -> Any:
    return catalog.create_model_version(
        name,
        run_id=None,
        bundle_uri=f"models/{name}",
        problem_type="binary",
        signature={},
        metrics={},
        lineage={},
        actor=ACTOR,
        pending=pending,
    )


def test_models_and_versions_carry_aliases(catalog: Catalog) -> None:
    for name in ("fraud", "fraud", "churn", "fraud"):
        _model(catalog, name)
    _model(catalog, "fraud", pending=True)
    catalog.set_alias("fraud", "prod", 2, actor=ACTOR)
    models = walk(catalog.page_models, limit=1)
    assert [(m.ref, m.aliases) for m in models] == [("churn:1", ()), ("fraud:3", ())]
    versions = walk(catalog.page_model_versions, filters={"name": "fraud"}, limit=2)
    assert [(v.version, v.aliases) for v in versions] == [(3, ()), (2, ("prod",)), (1, ())]
    pending = walk(catalog.page_model_versions, filters={"name": "fraud", "include_pending": True})
    assert [v.status for v in pending] == ["pending", "ready", "ready", "ready"]
    prod = walk(catalog.page_model_versions, filters={"alias": "prod"})
    assert [v.ref for v in prod] == ["fraud:2"]


def test_monitors_runs_and_alerts_page(catalog: Catalog) -> None:
    for name in ("b-watch", "a-watch"):
        catalog.create_monitor(
            name,
            model="fraud@prod",
            kinds=["drift"],
            schedule=None,
            window_seconds=3600,
            labels={},
            action=None,
            webhook={},
            actor=ACTOR,
        )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for hour in range(5):
        catalog.record_monitor_run(
            "a-watch",
            window_start=start + timedelta(hours=hour),
            window_end=start + timedelta(hours=hour + 1),
            status="violations",
            report={},
            html_uri=None,
            alerts=[
                {
                    "severity": s,
                    "kind": "drift",
                    "violation": "baseline_drift_check",
                    "evidence": {},
                }
                for s in ("warning", "error")
            ],
            actor=ACTOR,
        )
    assert [m.name for m in walk(catalog.page_monitors, limit=1)] == ["a-watch", "b-watch"]
    history = walk(catalog.page_monitor_runs, filters={"monitor": "a-watch"}, limit=2)
    assert [r.window_start.hour for r in history] == [4, 3, 2, 1, 0]
    by_severity = walk(catalog.page_alerts, sort="severity", descending=False, limit=3)
    assert [a.severity for a in by_severity] == ["error"] * 5 + ["warning"] * 5
    catalog.ack_alert(by_severity[0].id, comment=None, actor=ACTOR)
    assert catalog.count_alerts() == 10 and catalog.count_alerts(status="open") == 9
    assert catalog.count_alerts(monitor="b-watch") == 0
    open_ones = walk(catalog.page_alerts, filters={"status": "open"}, limit=4)
    assert len(open_ones) == 9 and [a.id for a in open_ones] == sorted(
        (a.id for a in open_ones), reverse=True
    )


def test_events_filter_by_actor_action_and_time(catalog: Catalog, runs: list[Any]) -> None:
    other = Actor("ana", "api", "10.0.0.9")
    mark = datetime.now(UTC)
    catalog.record_event("model.alias", "model", "fraud:1", actor=other, details={})
    catalog.record_event("model.approve", "model", "fraud:1", actor=other, details={})
    mine = walk(catalog.page_events, filters={"actor": "ana"}, limit=1)
    assert [e.action for e in mine] == ["model.approve", "model.alias"]
    assert mine[0].address == "10.0.0.9" and mine[0].face == "api"
    assert [e.action for e in walk(catalog.page_events, filters={"action": "model."})] == [
        "model.approve",
        "model.alias",
    ]
    early = walk(catalog.page_events, filters={"until": mark}, descending=False, limit=25)
    assert early and all(e.at < mark for e in early) and early[0].action == "run.start"
    assert all(e.at >= mark for e in walk(catalog.page_events, filters={"since": mark}))


def test_feature_definitions_page_latest_and_versions(catalog: Catalog) -> None:
    catalog.apply_feature_definitions([("group", "usage", {"v": 1})], actor=ACTOR)
    catalog.apply_feature_definitions(
        [("group", "usage", {"v": 2}), ("group", "profile", {"v": 1})], actor=ACTOR
    )
    latest = walk(lambda q: catalog.page_feature_definitions("group", q, latest=True))
    assert [d.ref for d in latest] == ["profile:1", "usage:2"]
    versions = walk(
        lambda q: catalog.page_feature_definitions("group", q), filters={"name": "usage"}
    )
    assert [d.ref for d in versions] == ["usage:2", "usage:1"]
    with pytest.raises(InvalidInput, match="'entity' or 'group'"):
        catalog.page_feature_definitions("view", PageQuery())


def test_reports_are_listed_without_payloads(catalog: Catalog) -> None:
    catalog.put_report("usage@1", "profile", {"big": 1}, html_uri="file:///p.html", actor=ACTOR)
    catalog.put_report("usage@1", "check", {"passed": True}, html_uri=None, actor=ACTOR)
    catalog.put_report("usage@2", "profile", {}, html_uri=None, actor=ACTOR)
    found = catalog.list_reports("usage@1")
    assert [(r.kind, r.html_uri) for r in found] == [("check", None), ("profile", "file:///p.html")]
    assert catalog.list_reports("nothing@1") == []


def test_pipeline_runs_page_newest_first_per_pipeline(catalog: Catalog) -> None:
    definition = {"parameters": {}, "steps": [{"name": "a"}]}
    for name in ("nightly", "hourly"):
        catalog.register_pipeline(name, definition=definition, source=None, actor=ACTOR)
    made = [
        catalog.create_pipeline_run(
            "nightly" if i % 2 else "hourly",
            version=1,
            params={},
            steps=["a"],
            trigger="manual",
            resumed_from=None,
            actor=ACTOR,
        )
        for i in range(7)
    ]
    catalog.finish_pipeline_run(made[1].id, status="failed", error="x", actor=ACTOR)
    nightly = walk(catalog.page_pipeline_runs, filters={"pipeline": "nightly"}, limit=2)
    assert [r.id for r in nightly] == [r.id for r in reversed(made) if r.pipeline == "nightly"]
    failed = walk(catalog.page_pipeline_runs, filters={"status": "failed"})
    assert [r.id for r in failed] == [made[1].id]
    assert len(walk(catalog.page_pipeline_runs, descending=False, limit=3)) == 7
    with pytest.raises(InvalidInput, match="'sort'"):
        catalog.page_pipeline_runs(PageQuery(sort="status"))


def test_pipelines_page_the_latest_version_of_each_by_name(catalog: Catalog) -> None:
    for i, name in enumerate(["b", "a", "c", "a", "d", "ab"]):
        definition = {"parameters": {}, "steps": [{"name": f"s{i}"}]}
        catalog.register_pipeline(name, definition=definition, source=None, actor=ACTOR)
    listed = walk(catalog.page_pipelines, limit=2)
    assert [p.ref for p in listed] == ["a:2", "ab:1", "b:1", "c:1", "d:1"]
    assert [p.name for p in walk(catalog.page_pipelines, filters={"prefix": "a"})] == ["a", "ab"]
    newest = walk(catalog.page_pipelines, sort="created_at", descending=True, limit=4)
    assert [p.name for p in newest] == ["ab", "d", "a", "c", "b"]
    with pytest.raises(InvalidInput, match="'sort'"):
        catalog.page_pipelines(PageQuery(sort="version"))


def test_endpoints_page_per_environment_at_their_current_revision(catalog: Catalog) -> None:
    for env, name in [("prod", "b"), ("dev", "b"), ("prod", "a"), ("prod", "c"), ("dev", "a")]:
        catalog.create_endpoint(env, name, config={"v": 1}, state={}, actor=ACTOR)
    catalog.revise_endpoint("prod", "a", config={"v": 2}, state={}, action="update", actor=ACTOR)
    prod = walk(catalog.page_endpoints, filters={"env": "prod"}, limit=2)
    assert [(e.name, e.revision, e.config) for e in prod] == [
        ("a", 2, {"v": 2}),
        ("b", 1, {"v": 1}),
        ("c", 1, {"v": 1}),
    ]
    every = walk(catalog.page_endpoints, limit=1)
    assert [(e.env, e.name) for e in every] == [
        ("dev", "a"), ("prod", "a"), ("dev", "b"), ("prod", "b"), ("prod", "c"),
    ]  # fmt: skip
    assert walk(catalog.page_endpoints, filters={"env": "staging"}) == []
