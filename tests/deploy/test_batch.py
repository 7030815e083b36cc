from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import fixture_training

from shipyard.deploy import batch_transform
from shipyard.errors import InvalidInput
from shipyard.ingest import ingest_path
from shipyard.lake import read_written
from shipyard.project import Project
from shipyard.registry import approve_model, promote
from shipyard.train import train


@pytest.fixture
def served(project: Project, parquet_file: Path) -> Project:
    ingest_path(project, parquet_file, "t")
    train(project, "t", "label", model_name="fraud", **fixture_training())
    approve_model(project, "fraud:1", comment="test fixture")
    promote(project, "fraud:1", "prod")
    return project


def test_batch_scores_every_row_in_small_batches(served: Project, frame) -> None:
    result = batch_transform(served, "fraud@prod", "t", "scored", batch_rows=700)
    version = result.version
    assert version.num_rows == len(frame)
    assert [c.name for c in version.columns][-2:] == ["score", "decision"]
    scored = served.lake.read_frame(version)
    assert scored["score"].between(0, 1).all()
    assert list(scored["amount"]) == list(frame["amount"])
    model_scores = served.lake.read_frame(version)["score"].to_numpy()
    assert (model_scores >= 0).all()


def test_batch_refuses_a_dataset_without_model_columns(served: Project, tmp_path, frame) -> None:
    frame.drop(columns=["country"]).to_parquet(tmp_path / "n.parquet", index=False)
    ingest_path(served, tmp_path / "n.parquet", "nocountry")
    with pytest.raises(InvalidInput, match="country"):
        batch_transform(served, "fraud@prod", "nocountry", "scored")
    assert [v.name for v in served.catalog.list_dataset_versions()] == ["nocountry", "t"]


@pytest.mark.parametrize("batch_rows", [-5, 0, 10**12, 2.5, True])
def test_batch_refuses_a_batch_size_out_of_range(served: Project, batch_rows: object) -> None:
    with pytest.raises(InvalidInput, match=r"'batch_rows'.* from 1 to 10,000,000\. Got"):
        batch_transform(served, "fraud@prod", "t", "scored", batch_rows=batch_rows)  # type: ignore[arg-type]
    assert [v.name for v in served.catalog.list_dataset_versions()] == ["t"]


def test_scores_written_by_a_batch_are_marked_and_left_out_of_the_next_model(
    served: Project,
) -> None:
    result = batch_transform(served, "fraud@prod", "t", "t")  # scored back into the table
    assert result.comparison is not None and result.comparison["status"] == "ok"
    assert served.catalog.get_report("fraud:1", "compare:batch").payload["other"] == "t@1"
    written = read_written(served.lake.files(result.version))
    assert set(written) == {"score", "decision"} and "fraud:1" in written["score"]
    retrained = train(served, "t", "label", model_name="again")
    inputs = {c["name"] for c in retrained.model_version.signature["inputs"]}
    assert not inputs & {"score", "decision"}
    assert "written by Shipyard" in retrained.dropped_columns["score"]
    asked = train(served, "t", "label", model_name="again", keep_columns=["score"])
    assert "score" in {c["name"] for c in asked.model_version.signature["inputs"]}
