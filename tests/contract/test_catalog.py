"""The catalog contract, run against every backend: SQLite always, PostgreSQL when set."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests._postgres import postgres_schema_url

from shipyard.catalog import Catalog, open_catalog
from shipyard.catalog import sql as sql_catalog
from shipyard.entities import Actor, ColumnSchema
from shipyard.errors import (
    AlreadyExists,
    BackendUnavailable,
    Conflict,
    InvalidInput,
    NotFound,
    ShipyardError,
)

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


def _dataset(
    catalog: Catalog, name: str = "usage", fingerprint: str = "f1", source: str = "csv:/x.csv"
) -> object:
    return catalog.create_dataset_version(
        name,
        fingerprint=fingerprint,
        columns=[ColumnSchema("a", "BIGINT")],
        num_rows=10,
        num_bytes=100,
        source=source,
        location=f"{name}/{fingerprint}",
        actor=ACTOR,
    )


def test_dataset_versions_count_up_per_name(catalog: Catalog) -> None:
    first, second = _dataset(catalog, fingerprint="a"), _dataset(catalog, fingerprint="b")
    other = _dataset(catalog, name="labels")
    assert (first.version, second.version, other.version) == (1, 2, 1)  # type: ignore[attr-defined]
    assert catalog.get_dataset_version("usage").fingerprint == "b"
    assert catalog.get_dataset_version("usage", 1).fingerprint == "a"
    assert [v.ref for v in catalog.list_dataset_versions("usage")] == ["usage@1", "usage@2"]


def test_concurrent_writers_get_distinct_versions(catalog: Catalog) -> None:
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            _dataset(catalog, fingerprint=f"f{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(v.version for v in catalog.list_dataset_versions("usage")) == list(range(1, 9))


def test_unknown_dataset_suggests_close_name(catalog: Catalog) -> None:
    _dataset(catalog, name="roaming")
    with pytest.raises(NotFound, match="Did you mean 'roaming'"):
        catalog.get_dataset_version("roamin")
    with pytest.raises(NotFound, match="no version 7"):
        catalog.get_dataset_version("roaming", 7)


def test_every_change_writes_an_audit_event(catalog: Catalog) -> None:
    _dataset(catalog)
    run = catalog.create_run(
        experiment="fraud", name="r", params={}, tags={}, inputs={}, actor=ACTOR
    )
    catalog.finish_run(run.id, status="finished", actor=ACTOR)
    catalog.create_model_version(
        "fraud",
        run_id=run.id,
        bundle_uri="file:///b",
        problem_type="binary",
        signature={},
        metrics={},
        lineage={},
        actor=ACTOR,
    )
    catalog.set_alias("fraud", "prod", 1, actor=ACTOR)
    actions = [e.action for e in reversed(catalog.list_events())]
    assert actions == [
        "dataset.create",
        "run.start",
        "run.finished",
        "model.register",
        "model.alias",
    ]
    assert {e.actor for e in catalog.list_events()} == {"tester"}


def test_run_lifecycle_metrics_and_curves(catalog: Catalog) -> None:
    run = catalog.create_run(
        experiment="fraud", name="r1", params={"lr": 0.1}, tags={"t": 1}, inputs={}, actor=ACTOR
    )
    assert run.status == "running"
    catalog.log_metrics(run.id, {"auc": 0.9})
    catalog.log_curve(run.id, "valid_loss", [(1, 0.5), (2, 0.4), (3, 0.35)])
    catalog.log_metrics(run.id, {"valid_loss": 0.3}, step=4)
    assert catalog.metric_history(run.id, "valid_loss") == [(1, 0.5), (2, 0.4), (3, 0.35), (4, 0.3)]
    done = catalog.finish_run(run.id, status="failed", error="boom", actor=ACTOR)
    assert (done.status, done.error, done.metrics["auc"]) == ("failed", "boom", 0.9)
    assert catalog.get_run(run.id[:8]).id == run.id
    assert [r.id for r in catalog.list_runs("fraud")] == [run.id]
    with pytest.raises(InvalidInput):
        catalog.finish_run(run.id, status="paused", actor=ACTOR)
    with pytest.raises(NotFound):
        catalog.get_run("doesnotexist")


def test_runs_record_their_process_and_heartbeat(catalog: Catalog) -> None:
    mine = catalog.create_run(experiment="e", name="a", params={}, tags={}, inputs={}, actor=ACTOR)
    other = catalog.create_run(experiment="e", name="b", params={}, tags={}, inputs={}, actor=ACTOR)
    assert (mine.host, mine.pid) == (socket.gethostname(), os.getpid())
    assert mine.heartbeat_at == mine.started_at
    catalog.finish_run(other.id, status="finished", actor=ACTOR)
    assert catalog.heartbeat(socket.gethostname(), os.getpid()) == 1  # the running one only
    assert catalog.heartbeat("nowhere", 1) == 0
    beat = catalog.get_run(mine.id).heartbeat_at
    assert beat is not None and beat >= mine.started_at
    assert [r.id for r in catalog.list_runs(status="running")] == [mine.id]
    assert [r.id for r in catalog.list_runs("e", status="finished")] == [other.id]


def test_aliases_move_and_resolve(catalog: Catalog) -> None:
    for _ in range(2):
        catalog.create_model_version(
            "fraud",
            run_id=None,
            bundle_uri="u",
            problem_type="binary",
            signature={"inputs": []},
            metrics={"test": {"roc_auc": 0.9}},
            lineage={},
            actor=ACTOR,
        )
    catalog.set_alias("fraud", "prod", 1, actor=ACTOR)
    assert catalog.resolve_alias("fraud", "prod").version == 1
    catalog.set_alias("fraud", "prod", 2, actor=ACTOR)
    assert catalog.resolve_alias("fraud", "prod").version == 2
    assert catalog.get_model_version("fraud", 1).aliases == ()
    assert catalog.get_model_version("fraud").aliases == ("prod",)
    with pytest.raises(NotFound, match="no alias 'staging'"):
        catalog.resolve_alias("fraud", "staging")
    with pytest.raises(NotFound, match="Did you mean 'fraud'"):
        catalog.resolve_alias("frauds", "prod")
    with pytest.raises(NotFound):
        catalog.set_alias("fraud", "prod", 9, actor=ACTOR)


def _model(catalog: Catalog, run_id: str | None = None, *, pending: bool = False) -> int:
    return catalog.create_model_version(
        "fraud",
        run_id=run_id,
        bundle_uri="models/fraud/x",
        problem_type="binary",
        signature={"inputs": []},
        metrics={},
        lineage={},
        actor=ACTOR,
        pending=pending,
    ).version


def test_a_pending_version_is_hidden_until_published_with_its_run(catalog: Catalog) -> None:
    _model(catalog)
    run = catalog.create_run(
        experiment="fraud", name="j", params={}, tags={}, inputs={}, actor=ACTOR
    )
    assert _model(catalog, run.id, pending=True) == 2
    assert catalog.get_model_version("fraud").version == 1
    with pytest.raises(NotFound, match=r"fraud:2 is pending"):
        catalog.get_model_version("fraud", 2)
    with pytest.raises(NotFound, match="pending"):
        catalog.set_alias("fraud", "prod", 2, actor=ACTOR)
    assert [v.version for v in catalog.list_model_versions()] == [1]
    listed = catalog.list_model_versions("fraud", include_pending=True)
    assert [(v.version, v.status) for v in listed] == [(1, "ready"), (2, "pending")]

    ready = catalog.publish_model_version(
        "fraud", 2, run_metrics={"auc": 0.9}, run_outputs={"model": "fraud:2"}, actor=ACTOR
    )
    assert (ready.version, ready.status) == (2, "ready")
    assert catalog.get_model_version("fraud").version == 2
    done = catalog.get_run(run.id)
    assert (done.status, done.metrics, done.outputs) == (
        "finished",
        {"auc": 0.9},
        {"model": "fraud:2"},
    )
    assert catalog.set_alias("fraud", "prod", 2, actor=ACTOR).version == 2
    assert catalog.list_events(limit=3)[1].action == "model.publish"
    with pytest.raises(Conflict, match="ready already"):
        catalog.publish_model_version("fraud", 2, actor=ACTOR)
    with pytest.raises(NotFound):
        catalog.publish_model_version("fraud", 9, actor=ACTOR)


def test_failing_a_run_abandons_its_pending_version(catalog: Catalog) -> None:
    run = catalog.create_run(
        experiment="fraud", name="j", params={}, tags={}, inputs={}, actor=ACTOR
    )
    assert _model(catalog, run.id, pending=True) == 1
    catalog.finish_run(run.id, status="failed", error="killed", actor=ACTOR)  # liveness repair
    with pytest.raises(Conflict, match="abandoned already"):
        catalog.publish_model_version("fraud", 1, actor=ACTOR)
    assert catalog.list_model_versions() == []
    [dead] = catalog.list_model_versions(include_pending=True)
    assert dead.status == "abandoned"
    with pytest.raises(NotFound, match=r"fraud:1 was abandoned"):
        catalog.get_model_version("fraud", 1)
    with pytest.raises(NotFound, match="No model named 'fraud'"):
        catalog.get_model_version("fraud")
    assert catalog.get_run(run.id).status == "failed"
    assert _model(catalog) == 2  # numbers stay monotonic past the dead one
    assert [v.version for v in catalog.list_model_versions()] == [2]


def test_reports_are_replaced(catalog: Catalog) -> None:
    catalog.put_report("usage@1", "profile", {"rows": 1}, html_uri=None, actor=ACTOR)
    catalog.put_report("usage@1", "profile", {"rows": 2}, html_uri="file:///r", actor=ACTOR)
    report = catalog.get_report("usage@1", "profile")
    assert (report.payload, report.html_uri) == ({"rows": 2}, "file:///r")
    with pytest.raises(NotFound):
        catalog.get_report("usage@1", "bias")


def test_unknown_scheme_lists_valid_ones() -> None:
    with pytest.raises(InvalidInput, match="sqlite://"):
        open_catalog("mysql://localhost/db")


def _counting_next_version(monkeypatch: pytest.MonkeyPatch, stale: list[int]) -> list[int]:
    """Make the next-version query hand out ``stale`` numbers first, as a racing writer that
    read the same maximum would; returns the numbers handed out."""
    real, handed = sql_catalog._next_version, []

    def next_version(conn: sa.Connection, table: sa.Table, name: str) -> int:
        handed.append(stale.pop(0) if stale else real(conn, table, name))
        return handed[-1]

    monkeypatch.setattr(sql_catalog, "_next_version", next_version)
    return handed


def test_a_lost_version_race_is_run_again(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    _dataset(catalog, fingerprint="a")
    handed = _counting_next_version(monkeypatch, stale=[1, 1])
    assert _dataset(catalog, fingerprint="b").version == 2  # type: ignore[attr-defined]
    assert handed == [1, 1, 2]
    assert [v.fingerprint for v in catalog.list_dataset_versions("usage")] == ["a", "b"]


def test_another_integrity_error_is_not_taken_for_a_race(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    handed = _counting_next_version(monkeypatch, stale=[])
    with pytest.raises(InvalidInput, match="source") as caught:
        _dataset(catalog, source=None)  # type: ignore[arg-type]
    assert "concurrent" not in caught.value.message
    assert handed == [1]  # not retried
    assert catalog.list_dataset_versions() == [] and catalog.list_events() == []


def test_a_duplicate_key_is_already_exists(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixed = uuid.UUID("0" * 32)
    monkeypatch.setattr("shipyard.catalog._runs.uuid.uuid4", lambda: fixed)
    catalog.create_run(experiment="e", name="a", params={}, tags={}, inputs={}, actor=ACTOR)
    with pytest.raises(AlreadyExists, match="already holds that key"):
        catalog.create_run(experiment="e", name="b", params={}, tags={}, inputs={}, actor=ACTOR)
    assert [r.name for r in catalog.list_runs()] == ["a"]


def test_a_file_that_is_not_a_catalog_is_backend_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "catalog.db"
    path.write_bytes(b"this is not a SQLite database, just some text " * 100)
    with pytest.raises(BackendUnavailable, match=r"not a database.*SHIPYARD_CATALOG_URL"):
        open_catalog(f"sqlite:///{path}")


def test_an_unreachable_server_is_backend_unavailable() -> None:
    with socket.socket() as sock:  # a loopback port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(BackendUnavailable, match="Check that it is running"):
        open_catalog(f"postgresql://nobody@127.0.0.1:{port}/none?connect_timeout=2")


@pytest.mark.parametrize("method", sorted(Catalog.__abstractmethods__))
def test_every_method_of_the_port_says_what_it_raises(method: str) -> None:
    doc = getattr(Catalog, method).__doc__ or ""
    assert "Raises:" in doc and "BackendUnavailable" in doc


def test_feature_definitions_get_a_version_only_when_changed(catalog: Catalog) -> None:
    first = catalog.apply_feature_definitions(
        [("entity", "subscriber", {"keys": ["id"]}), ("group", "usage", {"ttl": 1})], actor=ACTOR
    )
    assert [(d.ref, d.changed) for d in first] == [("subscriber:1", True), ("usage:1", True)]
    again = catalog.apply_feature_definitions(
        [("entity", "subscriber", {"keys": ["id"]}), ("group", "usage", {"ttl": 2})], actor=ACTOR
    )
    assert [(d.ref, d.changed) for d in again] == [("subscriber:1", False), ("usage:2", True)]
    assert catalog.get_feature_definition("group", "usage").definition == {"ttl": 2}
    assert catalog.get_feature_definition("group", "usage", 1).definition == {"ttl": 1}
    assert [d.ref for d in catalog.list_feature_definitions("group")] == ["usage:1", "usage:2"]
    assert [e.object_id for e in catalog.list_events(object_type="group")] == ["usage:2", "usage:1"]
    with pytest.raises(NotFound, match="Did you mean 'usage'"):
        catalog.get_feature_definition("group", "usag")
    with pytest.raises(InvalidInput, match="'entity' or 'group'"):
        catalog.list_feature_definitions("view")


def test_a_failed_feature_apply_writes_nothing(catalog: Catalog) -> None:
    with pytest.raises(ShipyardError):  # the second definition is not JSON
        catalog.apply_feature_definitions(
            [("group", "usage", {"a": 1}), ("group", "other", {"a": object()})], actor=ACTOR
        )
    assert catalog.list_feature_definitions("group") == []
