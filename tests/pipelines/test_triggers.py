"""Runs started by other processes: a monitor's violation starts its on-violation pipeline
with the alerts as the ``alert`` parameter, and the scheduler's default launcher starts a
``shipyard pipelines run`` of its own."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from shipyard.entities import PipelineRun
from shipyard.errors import InvalidInput, NotFound
from shipyard.monitor.alerts import notify
from shipyard.monitor.monitors import _check_action
from shipyard.pipelines import Scheduler, run_pipeline, schedule_pipeline
from shipyard.project import Project

START = datetime(2026, 3, 1, 10, tzinfo=UTC)


@pytest.fixture
def retrain(project: Project) -> str:
    folder = project.root / "pipelines"
    folder.mkdir()
    (folder / "retrain.yaml").write_text(yaml.safe_dump({
        "name": "retrain",
        "parameters": {"alert": {"type": "json", "default": {}}, "n": 1},
        "steps": [
            {"name": "read", "kind": "condition", "inputs": {"left": "params.alert"},
             "config": {"check": "'alerts' in left and len(left['alerts']) > 0"}},
            {"name": "add", "function": "tests.pipelines._steps:first",
             "inputs": {"n": "params.n"}},
        ],
    }))  # fmt: skip
    assert run_pipeline(project, "retrain", {"alert": {"alerts": []}}).ok  # registers it
    return "retrain"


def _wait_for_run(project: Project, trigger: str, pipeline: str = "retrain") -> PipelineRun:
    for _ in range(1200):  # a process of its own: up to 2 minutes on a busy machine
        found = [
            r
            for r in project.catalog.list_pipeline_runs(pipeline)
            if r.trigger == trigger and r.status != "running"
        ]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no run triggered by {trigger} ended")


def test_a_monitor_violation_starts_its_pipeline_with_the_alert(
    project: Project, retrain: str
) -> None:
    catalog = project.catalog
    monitor = catalog.create_monitor(
        "watch", model="fraud@prod", kinds=["drift"], schedule=None, window_seconds=3600,
        labels={}, action=f"pipeline:{retrain}", webhook={}, actor=project.actor,
    )  # fmt: skip
    alert = {"severity": "error", "kind": "drift", "violation": "baseline_drift_check",
             "evidence": {"column": "amount"}}  # fmt: skip
    _, alerts = catalog.record_monitor_run(
        "watch", window_start=START, window_end=START + timedelta(hours=1), status="violations",
        report={}, html_uri=None, alerts=[alert], actor=project.actor,
    )  # fmt: skip
    (notified,) = notify(project, monitor, alerts)
    assert notified.notified["action"]["status"] == "started"
    run = _wait_for_run(project, "monitor:watch")
    assert run.status == "finished", run.error
    assert run.params["alert"]["alerts"][0]["violation"] == "baseline_drift_check"
    steps = {s.step: s.outputs for s in catalog.list_pipeline_steps(run.id)}
    assert steps["read"] == {"result": True}


def test_an_on_violation_pipeline_must_take_the_alert(project: Project, retrain: str) -> None:
    _check_action(project, f"pipeline:{retrain}")
    with pytest.raises(NotFound, match="Did you mean 'retrain'"):
        _check_action(project, "pipeline:retrian")
    (project.root / "pipelines" / "plain.yaml").write_text(yaml.safe_dump({
        "name": "plain",
        "steps": [{"name": "add", "function": "tests.pipelines._steps:first",
                   "config": {"n": 1}}],
    }))  # fmt: skip
    run_pipeline(project, "plain")
    with pytest.raises(InvalidInput, match="json parameter 'alert'"):
        _check_action(project, "pipeline:plain")


def test_the_scheduler_starts_a_run_in_a_process_of_its_own(project: Project, retrain: str) -> None:
    schedule_pipeline(project, retrain, "*/5 * * * *", params={"n": "4"}, params_as_text=True)
    later = datetime.now(UTC) + timedelta(minutes=6)
    (fired,) = Scheduler(project, clock=lambda: later).tick()
    assert fired.started and fired.run is None  # the process records its run itself
    run = _wait_for_run(project, "schedule")
    assert (run.status, run.params["n"]) == ("finished", 4), run.error
    assert project.catalog.list_schedules()[0].last_run_id == run.id


def test_shipyard_server_with_scheduler_starts_what_is_due(project: Project) -> None:
    from tests.reliability._hostile import running

    (project.root / "pipelines").mkdir()
    (project.root / "pipelines" / "hourly.yaml").write_text(yaml.safe_dump({
        "name": "hourly",
        "parameters": {"n": 1},
        "steps": [{"name": "check", "kind": "condition", "inputs": {"left": "params.n"},
                   "config": {"check": "left > 1"}}],
    }))  # fmt: skip
    # Scheduled as of a day ago: the first slot has passed, so the server's scheduler starts
    # one catch-up run as soon as it is up.
    yesterday = datetime.now(UTC) - timedelta(days=1)
    schedule_pipeline(project, "hourly", "0 * * * *", params={"n": 2}, now=yesterday)
    with running(project.root, "server", "--scheduler", "--no-studio", ready="/healthz"):
        run = _wait_for_run(project, "schedule", "hourly")
    assert (run.status, run.params["n"]) == ("finished", 2), run.error
    assert project.catalog.list_schedules()[0].next_run_at > datetime.now(UTC)
