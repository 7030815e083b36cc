"""Garbage collection removes what no catalog row names, and nothing a live job needs."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

from shipyard.entities import Actor
from shipyard.maintenance import collect_garbage
from shipyard.project import Project, init_project


def _version(project: Project, key: str, *, run_id: str | None, pending: bool) -> None:
    folder = project.dir.parent / key.replace("/", "_")
    folder.mkdir()
    (folder / "model.pkl").write_bytes(b"x")
    project.artifacts.put_dir(folder, key)
    project.catalog.create_model_version(
        "m",
        run_id=run_id,
        bundle_uri=key,
        problem_type="binary",
        signature={},
        metrics={},
        lineage={},
        actor=Actor("t"),
        pending=pending,
    )


def test_only_unnamed_old_folders_and_abandoned_bundles_are_garbage(tmp_path: Path) -> None:
    project = init_project(tmp_path)
    run = project.catalog.create_run(
        experiment="m", name="r", params={}, tags={}, inputs={}, actor=Actor("t")
    )
    _version(project, "models/m/ready", run_id=None, pending=False)
    _version(project, "models/m/live", run_id=run.id, pending=True)  # this process runs it
    project.artifacts.put_dir(tmp_path / "models_m_ready", "models/m/unnamed")
    orphan = tmp_path / ".shipyard" / "lake" / "usage" / "deadbeef"
    orphan.mkdir(parents=True)
    (orphan / "part-0.parquet").write_bytes(b"x")

    assert collect_garbage(project).garbage == ()  # everything is young: maybe in flight
    old = time.time() - 2 * 3600
    for path in (orphan, tmp_path / ".shipyard" / "artifacts" / "models" / "m" / "unnamed"):
        os.utime(path, (old, old))
    found = collect_garbage(project, grace=timedelta(hours=1))
    assert {(g.kind, g.location) for g in found.garbage} == {
        ("bundle", "models/m/unnamed"),
        ("dataset", "usage/deadbeef"),
    }
    project.catalog.finish_run(run.id, status="failed", error="boom", actor=Actor("t"))
    removed = collect_garbage(project, delete=True)
    assert {g.location for g in removed.garbage} == {
        "models/m/live",
        "models/m/unnamed",
        "usage/deadbeef",
    }
    assert not orphan.exists() and not project.artifacts.exists("models/m/live")
    assert project.artifacts.exists("models/m/ready")
    assert collect_garbage(project).garbage == ()
    assert [e.action for e in project.catalog.list_events(3)] == ["gc.delete"] * 3
    project.close()


def test_old_temporary_capture_files_are_garbage_and_published_ones_are_not(
    tmp_path: Path,
) -> None:
    project = init_project(tmp_path)
    hour = project.artifacts.filesystem("captures")[1] + "/m/v1/date=2024-05-01/hour=10"
    os.makedirs(hour)
    names = {
        "old": ".part-ab12.parquet.cd34.tmp",
        "young": ".part-ef56.parquet.0a0b.tmp",
        "published": "part-ab12.parquet",
    }
    for name in names.values():
        Path(hour, name).write_bytes(b"PAR1")
    two_hours_ago = time.time() - 7200
    for which in ("old", "published"):
        os.utime(Path(hour, names[which]), (two_hours_ago, two_hours_ago))

    result = collect_garbage(project, delete=True)

    temps = [g for g in result.garbage if g.kind == "capture-temp"]
    assert [g.location.rsplit("/", 1)[-1] for g in temps] == [names["old"]]
    assert temps[0].location.startswith("captures/m/v1/")
    assert sorted(os.listdir(hour)) == sorted([names["young"], names["published"]])
