"""Run liveness: heartbeats while a job runs, and runs whose process died marked failed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from shipyard.project import Project, open_project
from shipyard.tracking import Heartbeat, fail_dead_runs

_CREATE_AND_DIE = """
import os, sys
from shipyard.project import open_project
project = open_project(sys.argv[1])
run = project.catalog.create_run(
    experiment="e", name="doomed", params={}, tags={}, inputs={}, actor=project.actor
)
print(run.id, flush=True)
os._exit(0)  # no finish_run: as if killed
"""


def _new_run(project: Project, name: str) -> str:
    run = project.catalog.create_run(
        experiment="e", name=name, params={}, tags={}, inputs={}, actor=project.actor
    )
    return run.id


def test_a_run_whose_process_died_is_marked_failed(project: Project) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _CREATE_AND_DIE, str(project.root)],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = proc.stdout.strip()
    alive = _new_run(project, "ours")  # this process: alive
    assert project.catalog.get_run(dead).status == "running"

    failed = fail_dead_runs(project.catalog, project.actor)

    assert [r.id for r in failed] == [dead]
    run = project.catalog.get_run(dead)
    assert run.status == "failed" and run.ended_at is not None
    assert "ended without finishing" in (run.error or "")
    assert project.catalog.get_run(alive).status == "running"
    assert fail_dead_runs(project.catalog, project.actor) == []  # nothing twice


def test_a_run_on_another_host_dies_only_after_its_heartbeats_stop(project: Project) -> None:
    run = project.catalog.get_run(_new_run(project, "remote"))
    beat = run.heartbeat_at
    assert beat is not None and run.host == socket.gethostname() and run.pid == os.getpid()
    remote = replace(run, host="elsewhere")
    catalog = _Overlay(project, remote)
    assert fail_dead_runs(catalog, project.actor, now=beat + timedelta(minutes=4)) == []
    [failed] = fail_dead_runs(catalog, project.actor, now=beat + timedelta(minutes=6))
    assert failed.status == "failed" and "No heartbeat from elsewhere" in (failed.error or "")


def test_heartbeat_moves_the_running_runs_of_this_process(project: Project) -> None:
    run_id = _new_run(project, "beating")
    before = project.catalog.get_run(run_id).heartbeat_at
    assert before is not None
    with Heartbeat(project.catalog, every=0.05):
        deadline = time.monotonic() + 10
        while project.catalog.get_run(run_id).heartbeat_at == before:
            assert time.monotonic() < deadline, "no heartbeat in 10 s"
            time.sleep(0.05)
    assert project.catalog.get_run(run_id).heartbeat_at > before  # type: ignore[operator]


def test_sigterm_during_training_fails_the_run_and_exits_non_zero(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 3_000
    x = rng.normal(size=(n, 4))
    frame = pd.DataFrame(x, columns=list("abcd")).assign(y=(x[:, 0] + rng.normal(size=n)) > 0)
    frame.to_parquet(tmp_path / "d.parquet")
    env = {k: v for k, v in os.environ.items() if k != "SHIPYARD_HOME"}
    cli = [sys.executable, "-m", "shipyard"]
    subprocess.run([*cli, "init"], cwd=tmp_path, env=env, check=True, capture_output=True)
    subprocess.run(
        [*cli, "ingest", "d.parquet", "--name", "d"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )
    job = subprocess.Popen(
        [*cli, "train", "d", "--target", "y", "--time-budget", "120"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    project = open_project(tmp_path)
    try:
        deadline = time.monotonic() + 120
        while not project.catalog.list_runs(status="running"):
            assert job.poll() is None, job.communicate()
            assert time.monotonic() < deadline, "training never started"
            time.sleep(0.2)
        job.send_signal(signal.SIGTERM)
        _, err = job.communicate(timeout=60)
    finally:
        if job.poll() is None:
            job.kill()
    assert job.returncode != 0 and "Traceback" not in err
    parent = [r for r in project.catalog.list_runs() if r.tags.get("kind") == "automl"]
    assert [r.status for r in parent] == ["failed"]
    assert project.catalog.list_runs(status="running") == []


class _Overlay:
    """The project's catalog, with one run seen as if it ran on another host."""

    def __init__(self, project: Project, run: object) -> None:
        self._catalog = project.catalog
        self._run = run

    def list_runs(self, experiment: str | None = None, *, status: str | None = None) -> list:
        return [
            self._run if r.id == self._run.id else r  # type: ignore[attr-defined]
            for r in self._catalog.list_runs(experiment, status=status)
        ]

    def finish_run(self, run_id: str, **kwargs: object) -> object:
        return self._catalog.finish_run(run_id, **kwargs)  # type: ignore[arg-type]
