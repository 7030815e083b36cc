"""Batch transform on Ray (Ray Data map_batches) gives what the local path gives."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shipyard.deploy import batch_transform
from shipyard.errors import InvalidInput
from shipyard.ingest import ingest_path
from shipyard.lake import publish_staged
from shipyard.project import Project
from shipyard.train import train

pytest.importorskip("ray")

# Ray Data's own DataContext sets fields it has deprecated (use_push_based_shuffle,
# use_polars) when it is first made; nothing of ours sets them.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[Any]:
    """One Ray for the module (starting one takes about ten seconds)."""
    import ray

    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        logging_level="ERROR",
    )
    yield ray
    ray.shutdown()


@pytest.fixture
def three_files(project: Project, tmp_path: Path, frame) -> str:
    """A model, and a dataset of three Parquet files whose string column is stored as a
    dictionary (Arrow reads it back as one; DuckDB, the local path's reader, does not)."""
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    ingest_path(project, tmp_path / "t.parquet", "t")
    train(project, "t", "label", model_name="fraud")
    scored = frame.drop(columns=["label"]).astype({"country": "category"})
    with project.lake.staging() as staged:
        for i, part in enumerate((scored[:1000], scored[1000:1700], scored[1700:])):
            part.to_parquet(staged / f"part-{i}.parquet", index=False)
        published = publish_staged(
            project.catalog, project.lake, staged, "incoming", source="test", actor=project.actor
        )
    return published.version.ref


def test_ray_scores_the_same_rows_in_the_same_order(local_ray, project, three_files) -> None:
    local = batch_transform(project, "fraud", three_files, "scored", batch_rows=400)
    seen: list[int] = []
    on_ray = batch_transform(
        project,
        "fraud",
        three_files,
        "scored",
        batch_rows=400,
        backend="ray",
        progress=lambda done, total: seen.append(done),
    )
    # Identical content publishes nothing new: the fingerprint covers every value.
    assert on_ray.unchanged and on_ray.version == local.version
    assert seen[-1] == 3000
    elsewhere = batch_transform(project, "fraud", three_files, "scored_ray", backend="ray")
    assert elsewhere.version.columns == local.version.columns
    expected = project.lake.read_frame(local.version)
    got = project.lake.read_frame(elsewhere.version)
    assert got.equals(expected)
    assert list(got["amount"][:5]) == list(expected["amount"][:5])


def test_ray_refuses_capture_before_reading_anything(project, three_files) -> None:
    with pytest.raises(InvalidInput, match="--backend ray"):
        batch_transform(project, "fraud", three_files, "scored", backend="ray", capture=True)
    with pytest.raises(InvalidInput, match="one of local, ray"):
        batch_transform(project, "fraud", three_files, "scored", backend="spark")
    assert "scored" not in {v.name for v in project.catalog.list_dataset_versions()}
