"""A real `shipyard` process killed with SIGKILL at the worst moment leaves nothing usable
half-made: no visible or promotable model version, and no staging that outlives it.

The kill comes from the test hook ``SHIPYARD_TEST_CRASH_AT`` (:mod:`shipyard._testhooks`).
The killed commands and what a user then types go through the real CLI; the rest of the
checks read the project in-process, to keep the test fast.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shipyard.ingest import ingest_path
from shipyard.project import Project, init_project
from shipyard.registry import list_versions
from shipyard.tracking import list_runs
from tests.e2e.cli import shipyard

pytestmark = pytest.mark.e2e


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    frame["y"] = (x[:, 0] + rng.normal(scale=0.5, size=400) > 0).astype(int)
    frame.to_csv(tmp_path / "kb.csv", index=False)
    opened = init_project(tmp_path)
    ingest_path(opened, tmp_path / "kb.csv", "kb")
    yield opened
    opened.close()


def _killed_at(point: str, monkeypatch: pytest.MonkeyPatch, cwd: Path, *args: str) -> None:
    monkeypatch.setenv("SHIPYARD_TEST_CRASH_AT", point)
    proc = shipyard(cwd, *args, check=False)
    monkeypatch.delenv("SHIPYARD_TEST_CRASH_AT")
    assert proc.returncode == -signal.SIGKILL, proc.stderr


def _bundles(project: Project) -> list[Path]:
    return sorted((project.dir / "artifacts" / "models" / "kb").glob("*"))


def test_a_job_killed_after_its_bundle_leaves_no_usable_version(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project.dir.parent
    train = ("train", "kb", "--target", "y", "--family", "linear")
    _killed_at("after_bundle", monkeypatch, root, *train)
    assert len(_bundles(project)) == 1  # the bundle was written, its version registered
    assert list_versions(project) == []

    refused = shipyard(root, "models", "promote", "kb:1", "--to", "prod", check=False)
    assert refused.returncode == 1 and "kb:1 is pending" in refused.stdout + refused.stderr
    assert "Traceback" not in refused.stderr
    [run] = list_runs(project)  # the liveness repair fails the dead job's run
    assert run.status == "failed" and "killed" in str(run.error)
    [dead] = list_versions(project, include_pending=True)
    assert (dead.version, dead.status) == (1, "abandoned")

    listed = json.loads(shipyard(root, "gc", "--json").stdout)
    assert [g["kind"] for g in listed["garbage"]] == ["bundle"]
    assert listed["deleted"] is False and len(_bundles(project)) == 1
    assert "Deleted 1 item" in shipyard(root, "gc", "--yes").stdout
    assert _bundles(project) == []

    trained = json.loads(shipyard(root, *train, "--json").stdout)
    assert trained["model"] == "kb:2"  # numbers stay monotonic past the dead version
    assert [v.version for v in list_versions(project)] == [2]


def test_a_killed_ingest_is_swept_at_the_next_ingest(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv, staging = str(project.dir.parent / "kb.csv"), project.dir / "lake" / "_staging"
    _killed_at("ingest_staged", monkeypatch, project.dir.parent, "ingest", csv, "--name", "kc")
    [left] = staging.iterdir()
    assert list(left.glob("*.parquet"))
    ingest_path(project, csv, "kd")
    assert list(staging.iterdir()) == []
    assert [d.name for d in project.catalog.list_dataset_versions()] == ["kb", "kd"]
