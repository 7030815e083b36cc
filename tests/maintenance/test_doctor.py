"""`doctor` finds each planted inconsistency, repairs dead runs, and reports orphans."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from shipyard.entities import Actor
from shipyard.ingest import ingest_path
from shipyard.maintenance import check_health
from shipyard.project import Project
from shipyard.registry import approve_model, promote, resolve_model
from shipyard.train import train


@pytest.fixture
def healthy(project: Project, parquet_file: Path) -> Project:
    ingest_path(project, parquet_file, "t")
    train(project, "t", "label", model_name="fraud")
    approve_model(project, "fraud:1", comment="test fixture")
    promote(project, "fraud:1", "prod")
    return project


def _bundle(project: Project) -> Path:
    version = resolve_model(project, "fraud:1")
    return project.artifacts.local_dir(project.artifacts.key_of(version.bundle_uri))


def test_a_consistent_project_is_ok(healthy: Project) -> None:
    health = check_health(healthy)
    assert health.ok and health.problems == ()
    assert health.checked["datasets"] == 1 and health.checked["bundles"] == 1


def test_a_bundle_that_no_longer_matches_its_manifest_is_found(healthy: Project) -> None:
    with (_bundle(healthy) / "model.pkl").open("ab") as fh:
        fh.write(b"\0")
    health = check_health(healthy)
    assert not health.ok
    [found] = health.problems
    assert (found.kind, found.object) == ("bundle", "fraud:1")
    assert "model.pkl was modified" in found.problem and "fraud@prod" in found.problem


def test_an_alias_to_a_missing_bundle_is_found(healthy: Project) -> None:
    import shutil

    shutil.rmtree(_bundle(healthy))
    [found] = check_health(healthy).problems
    assert found.kind == "bundle" and "is missing" in found.problem
    assert "fraud@prod" in found.problem


def test_dataset_files_that_differ_from_the_fingerprint_are_found(healthy: Project) -> None:
    version = healthy.catalog.get_dataset_version("t")
    for part in (healthy.lake.root / version.location).glob("*.parquet"):
        part.write_bytes(b"not parquet")
    [found] = check_health(healthy).problems
    assert (found.kind, found.object) == ("dataset", "t@1") and "missing" in found.problem


def test_a_dead_run_is_marked_failed_and_its_pending_version_is_an_orphan(
    healthy: Project,
) -> None:
    run = healthy.catalog.create_run(
        experiment="m", name="r", params={}, tags={}, inputs={}, actor=Actor("t")
    )
    folder = healthy.root / "b"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(b"x")
    healthy.artifacts.put_dir(folder, "models/m/pending")
    healthy.catalog.create_model_version(
        "m",
        run_id=run.id,
        bundle_uri="models/m/pending",
        problem_type="binary",
        signature={},
        metrics={},
        lineage={},
        actor=Actor("t"),
        pending=True,
    )
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with sqlite3.connect(healthy.dir / "catalog.db") as db:
        db.execute("UPDATE runs SET pid = ? WHERE id = ?", (dead.pid, run.id))
    health = check_health(healthy)
    assert health.ok  # repaired, and an orphan is harmless
    assert [f.object for f in health.repaired] == [run.id]
    assert healthy.catalog.get_run(run.id).status == "failed"
    assert [f.object for f in health.orphans] == ["models/m/pending"]
    assert "shipyard gc" in health.orphans[0].fix


def test_an_old_unnamed_bundle_is_reported_as_an_orphan(healthy: Project) -> None:
    folder = healthy.root / "b"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(b"x")
    healthy.artifacts.put_dir(folder, "models/fraud/unnamed")
    old = time.time() - 7200
    os.utime(healthy.dir / "artifacts" / "models" / "fraud" / "unnamed", (old, old))
    health = check_health(healthy, grace=timedelta(hours=1))
    assert health.ok and [f.object for f in health.orphans] == ["models/fraud/unnamed"]
