"""The training-memory estimate, and the warning when the machine has less available."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from shipyard.errors import ShipyardWarning
from shipyard.ingest import ingest_path
from shipyard.project import Project
from shipyard.train import TrainSpec, _memory, estimate_training_memory, train

GIB = 2**30


@pytest.fixture
def dataset(project: Project, parquet_file: Path) -> str:
    return ingest_path(project, parquet_file, "t").version.ref


def test_the_warning_fires_when_available_memory_is_small(project, dataset, monkeypatch) -> None:
    monkeypatch.setattr(_memory, "available_memory", lambda: 50 * 2**20)
    with pytest.warns(ShipyardWarning, match=r"needs about .* this machine has 50 MiB") as seen:
        result = train(project, dataset, "label", model_name="fraud")
    message = str(seen[0].message)
    for advice in ("USING SAMPLE", "--time-budget", "more memory", "--backend ray"):
        assert advice in message
    assert result.model_version.ref == "fraud:1"  # a warning, not a refusal


def test_no_warning_when_the_machine_is_big_enough(project, dataset, monkeypatch) -> None:
    monkeypatch.setattr(_memory, "available_memory", lambda: 64 * GIB)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ShipyardWarning)
        train(project, dataset, "label", model_name="fraud")


def test_the_estimate_grows_with_rows_strings_trees_and_parallel_trials(project, dataset) -> None:
    version = project.catalog.get_dataset_version("t")
    lgbm = estimate_training_memory(version, TrainSpec.of(), "label")
    bigger = estimate_training_memory(
        _with_rows(version, 100 * version.num_rows), TrainSpec.of(), "label"
    )
    forest = estimate_training_memory(version, TrainSpec.of(family="random_forest"), "label")
    automl = TrainSpec.of(time_budget=60, backend="ray")
    parallel = estimate_training_memory(version, automl, "label", parallel_trials=4)
    assert lgbm.total < bigger.total < 10 * GIB
    # 300 trees of about one node per four of the 2,100 training rows, 80 bytes each, 38
    # more for their single-row copy, and 20 MiB more held whatever the size.
    nodes = 300 * 0.25 * 2100
    assert forest.total - lgbm.total == pytest.approx(nodes * (80 + 38) + 20 * 2**20, rel=0.01)
    assert parallel.total > forest.total + 4 * 250 * 2**20
    # a search keeps the best random forest and extra trees while it fits the next model
    forests = 2 * nodes * (80 + 38)
    kept = parallel.parts["forests kept (the best of each family)"]
    assert kept == pytest.approx(forests, rel=0.01)
    assert "table (read + labelled copy)" in lgbm.explain()
    # Excluding a column still reads it, but saves its encoded feature (8 bytes a row) and
    # LightGBM's copy of the training share of it (half of 70%).
    fewer = estimate_training_memory(version, TrainSpec.of(exclude=["country"]), "label")
    assert fewer.total == pytest.approx(lgbm.total - 3000 * 8 * (1 + 0.5 * 0.7), abs=2)


def _with_rows(version, rows: int):
    import dataclasses

    return dataclasses.replace(version, num_rows=rows)
