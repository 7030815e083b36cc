"""The catalog's pipeline contract (definitions, runs, steps, cache look-up, lineage,
schedules), on every backend."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta

import pytest
from tests.contract.test_catalog import catalog  # noqa: F401 - the backend fixture

from shipyard.catalog import Catalog
from shipyard.entities import Actor
from shipyard.errors import Conflict, InvalidInput, NotFound

ACTOR = Actor("tester", "cli")
DEFINITION = {"parameters": {}, "steps": [{"name": "a"}, {"name": "b"}]}


def _run(cat: Catalog, steps: tuple[str, ...] = ("a", "b")) -> str:
    cat.register_pipeline("nightly", definition=DEFINITION, source="p.yaml", actor=ACTOR)
    run = cat.create_pipeline_run(
        "nightly",
        version=1,
        params={"x": 1},
        steps=steps,
        trigger="manual",
        resumed_from=None,
        actor=ACTOR,
    )
    return run.id


def test_a_definition_gets_a_new_version_only_when_it_changes(catalog: Catalog) -> None:  # noqa: F811
    first = catalog.register_pipeline("nightly", definition=DEFINITION, source=None, actor=ACTOR)
    same = catalog.register_pipeline("nightly", definition=DEFINITION, source=None, actor=ACTOR)
    other = catalog.register_pipeline(
        "nightly", definition={**DEFINITION, "x": 1}, source="n.yaml", actor=ACTOR
    )
    assert (first.version, first.changed, same.version, same.changed) == (1, True, 1, False)
    assert (other.version, other.changed, other.source) == (2, True, "n.yaml")
    assert [p.ref for p in catalog.list_pipelines()] == ["nightly:2"]
    assert catalog.get_pipeline("nightly", 1).definition == DEFINITION
    with pytest.raises(NotFound, match="Did you mean 'nightly'"):
        catalog.get_pipeline("nighty")
    with pytest.raises(InvalidInput, match="plain JSON"):
        catalog.register_pipeline("bad", definition={"x": float("nan")}, source=None, actor=ACTOR)


def test_a_run_records_its_steps_and_their_lineage(catalog: Catalog) -> None:  # noqa: F811
    run_id = _run(catalog)
    run = catalog.get_pipeline_run(run_id[:8])
    assert (run.status, run.host, run.pid, run.params) == (
        "running",
        socket.gethostname(),
        os.getpid(),
        {"x": 1},
    )
    assert [(s.step, s.status) for s in catalog.list_pipeline_steps(run_id)] == [
        ("a", "pending"),
        ("b", "pending"),
    ]
    now = datetime.now(UTC)
    done = catalog.update_pipeline_step(
        run_id,
        "a",
        status="finished",
        attempts=1,
        cache_key="k" * 64,
        outputs={"dataset": "usage@2"},
        logs="hello",
        started_at=now,
        ended_at=now + timedelta(seconds=2),
        lineage=[("dataset", "usage@2")],
        actor=ACTOR,
    )
    assert (done.status, done.seconds, done.logs) == ("finished", 2.0, "hello")
    assert catalog.pipeline_lineage("usage@2") == [(run_id, "a")]
    assert catalog.find_cached_step("k" * 64).run_id == run_id  # type: ignore[union-attr]
    assert catalog.find_cached_step("k" * 64, not_before=now + timedelta(days=1)) is None
    assert catalog.find_cached_step("z" * 64) is None
    with pytest.raises(InvalidInput, match="status"):
        catalog.update_pipeline_step(run_id, "a", status="weird", actor=ACTOR)
    with pytest.raises(NotFound):
        catalog.update_pipeline_step(run_id, "nope", status="running", actor=ACTOR)


def test_failing_a_run_ends_its_open_steps_and_freezes_it(catalog: Catalog) -> None:  # noqa: F811
    run_id = _run(catalog)
    catalog.update_pipeline_step(run_id, "a", status="running", actor=ACTOR)
    failed = catalog.finish_pipeline_run(run_id, status="failed", error="killed", actor=ACTOR)
    assert (failed.status, failed.error) == ("failed", "killed")
    steps = {s.step: (s.status, s.error) for s in catalog.list_pipeline_steps(run_id)}
    assert steps == {"a": ("failed", "killed"), "b": ("cancelled", None)}
    with pytest.raises(Conflict):
        catalog.update_pipeline_step(run_id, "b", status="running", actor=ACTOR)
    with pytest.raises(Conflict):
        catalog.finish_pipeline_run(run_id, status="finished", actor=ACTOR)
    assert [r.id for r in catalog.list_pipeline_runs("nightly", status="failed")] == [run_id]
    assert catalog.list_events(object_type="pipeline_run")[0].action == "pipeline.run.failed"


def test_heartbeats_touch_only_this_process_running_runs(catalog: Catalog) -> None:  # noqa: F811
    _run(catalog)
    assert catalog.heartbeat_pipeline_runs(socket.gethostname(), os.getpid()) == 1
    assert catalog.heartbeat_pipeline_runs("elsewhere", 1) == 0


def test_a_schedule_is_claimed_once_per_due_time(catalog: Catalog) -> None:  # noqa: F811
    catalog.register_pipeline("nightly", definition=DEFINITION, source=None, actor=ACTOR)
    due = datetime(2026, 1, 2, 2, 0, tzinfo=UTC)
    catalog.set_schedule(
        "nightly", cron="0 2 * * *", params={}, missed="once", next_run_at=due, actor=ACTOR
    )
    later = due + timedelta(days=1)
    claimed = catalog.claim_schedule("nightly", due=due, next_run_at=later, actor=ACTOR)
    assert claimed is not None and claimed.next_run_at == later
    assert catalog.claim_schedule("nightly", due=due, next_run_at=later, actor=ACTOR) is None
    catalog.record_schedule_run("nightly", "r" * 32, due)
    (stored,) = catalog.list_schedules()
    assert (stored.last_run_id, stored.last_run_at) == ("r" * 32, due)
    with pytest.raises(NotFound):
        catalog.set_schedule(
            "ghost", cron="* * * * *", params={}, missed="once", next_run_at=due, actor=ACTOR
        )
    catalog.delete_schedule("nightly", actor=ACTOR)
    assert catalog.list_schedules() == []
    with pytest.raises(NotFound):
        catalog.delete_schedule("nightly", actor=ACTOR)
