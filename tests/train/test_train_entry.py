"""The training entry point: from a dataset version to an evaluated, registered model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shipyard.errors import InvalidInput, NotFound
from shipyard.ingest import ingest_path
from shipyard.project import Project
from shipyard.registry import load_model
from shipyard.train import split_frame, train


def _ingest(project: Project, tmp_path: Path, frame: pd.DataFrame, name: str = "t") -> None:
    path = tmp_path / f"{name}.parquet"
    frame.to_parquet(path, index=False)
    ingest_path(project, path, name)


def test_binary_model_is_good_and_recorded(project: Project, tmp_path: Path, frame) -> None:
    _ingest(project, tmp_path, frame)
    result = train(project, "t", "label", model_name="fraud")
    assert result.problem.type == "binary"
    assert result.metrics["test"]["roc_auc"] > 0.75
    assert 0 < result.metrics["valid"]["threshold"] < 1
    run = project.catalog.get_run(result.run.id)
    assert run.status == "finished" and run.outputs["model"] == "fraud:1"
    assert project.catalog.metric_history(run.id, "valid_loss")
    version = project.catalog.get_model_version("fraud", 1)
    assert version.lineage["dataset"] == "t@1" and version.lineage["run"] == run.id
    # the finished model timed on held-out JSON rows, as the server scores them
    assert 0 < result.metrics["serving"]["predict_ms_per_row"] < 1000
    assert version.metrics["serving"]["predict_ms_per_row"] > 0


@pytest.mark.parametrize(
    ("target_values", "expected"),
    [
        pytest.param(lambda rng, n: rng.choice(["a", "b", "c"], n), "multiclass", id="multiclass"),
        pytest.param(lambda rng, n: rng.normal(100, 10, n), "regression", id="regression"),
    ],
)
def test_other_problem_types(project, tmp_path, frame, rng, target_values, expected) -> None:
    frame["label"] = target_values(rng, len(frame))
    _ingest(project, tmp_path, frame)
    result = train(project, "t", "label", split="random")
    assert result.problem.type == expected
    loaded = load_model(project, "t")
    row = frame.drop(columns=["label"]).head(2).to_dict(orient="records")
    assert len(loaded.model.predict_records(row).scores) == 2


def test_unknown_target_suggests_the_column(project, tmp_path, frame) -> None:
    _ingest(project, tmp_path, frame)
    with pytest.raises(NotFound, match="Did you mean 'label'"):
        train(project, "t", "labels")
    assert project.catalog.list_runs() == []


def test_single_class_target_is_refused(project, tmp_path, frame) -> None:
    frame["label"] = 1
    _ingest(project, tmp_path, frame)
    with pytest.raises(InvalidInput, match="single value"):
        train(project, "t", "label")
    assert project.catalog.list_model_versions() == []


def test_leaky_split_stops_training_unless_allowed(project, tmp_path, frame) -> None:
    leaky = pd.concat([frame, frame], ignore_index=True)
    _ingest(project, tmp_path, leaky)
    with pytest.raises(InvalidInput, match="--allow-leakage"):
        train(project, "t", "label", split="random")
    result = train(project, "t", "label", split="random", allow_leakage=True)
    assert result.run.tags["allow_leakage"] is True


def test_time_split_orders_parts(frame) -> None:
    frame["day"] = pd.date_range("2026-01-01", periods=len(frame), freq="h")
    frame = frame.sample(frac=1, random_state=0).reset_index(drop=True)
    split = split_frame(frame, "label", strategy="time", time_column="day")
    assert frame["day"].iloc[split.train].max() < frame["day"].iloc[split.valid].min()
    assert frame["day"].iloc[split.valid].max() < frame["day"].iloc[split.test].min()
    assert not split.findings


def test_group_split_keeps_entities_apart(frame, rng) -> None:
    frame["customer"] = rng.integers(0, 300, len(frame))
    split = split_frame(frame, "label", strategy="group", group_column="customer")
    parts = [set(frame["customer"].iloc[p]) for p in (split.train, split.valid, split.test)]
    assert not (parts[0] & parts[2]) and not (parts[0] & parts[1])


def test_stratified_split_keeps_class_balance(frame) -> None:
    split = split_frame(frame, "label", strategy="stratified", seed=3)
    rates = [frame["label"].iloc[p].mean() for p in (split.train, split.valid, split.test)]
    assert np.ptp(rates) < 0.01


def test_column_split_takes_the_given_parts_and_draws_validation_from_train(frame) -> None:
    frame["part"] = np.where(np.arange(len(frame)) % 4 == 0, "test", "train")
    split = split_frame(frame, "label", strategy="column", split_column="part", seed=1)
    assert np.array_equal(split.test, np.flatnonzero(frame["part"] == "test"))
    assert set(split.valid) <= set(np.flatnonzero(frame["part"] == "train"))
    assert len(split.valid) == pytest.approx(0.15 * (frame["part"] == "train").sum(), abs=2)
    assert not set(split.train) & set(split.valid)
    assert split.summary()["split_column"] == "part"
    frame.loc[:9, "part"] = "valid"
    given = split_frame(frame, "label", strategy="column", split_column="part")
    assert list(given.valid) == list(range(10))
    frame.loc[3, "part"] = "holdout"
    with pytest.raises(InvalidInput, match=r"train, valid or test.*'holdout'"):
        split_frame(frame, "label", strategy="column", split_column="part")
    with pytest.raises(InvalidInput, match="--split-column"):
        split_frame(frame, "label", strategy="column")


def test_train_on_a_column_split_tests_on_exactly_those_rows(project, ingest, frame) -> None:
    frame["part"] = np.where(np.arange(len(frame)) < 600, "test", "train")
    result = train(project, ingest(frame), "label", split="column", split_column="part")
    assert result.split["rows"]["test"] == 600
    assert all(c["name"] != "part" for c in result.model_version.signature["inputs"])


def test_the_bundle_records_which_dataset_rows_were_held_out(project, ingest, frame) -> None:
    frame["part"] = np.where(np.arange(len(frame)) % 5 == 0, "test", "train")
    frame.loc[frame.index % 7 == 3, "label"] = np.nan  # unlabelled rows shift the positions
    result = train(project, ingest(frame), "label", split="column", split_column="part")
    version = result.model_version
    entry = version.lineage["held_out"]
    bundle = load_model(project, version.ref).path
    rows = pd.read_parquet(bundle / entry["file"])["row"].to_numpy()
    expected = np.flatnonzero((frame["part"] == "test") & frame["label"].notna())
    assert np.array_equal(rows, expected)
    assert entry == {"dataset": "d@1", "file": "held_out.parquet", "rows": len(expected)}
    assert result.split["rows"]["test"] == len(expected)


def test_unseen_category_is_scored_and_reported(project, tmp_path, frame) -> None:
    _ingest(project, tmp_path, frame)
    train(project, "t", "label", model_name="m")
    model = load_model(project, "m").model
    row = {"amount": 120.0, "country": "ZZ", "night": True, "noise": 0.1}
    predictions = model.predict_records([row])
    assert predictions.unseen == {"country": 1}
    assert 0 <= predictions.scores[0] <= 1


def test_unseen_categories_in_a_batch_are_counted(project, tmp_path, frame) -> None:
    _ingest(project, tmp_path, frame)
    train(project, "t", "label", model_name="m")
    model = load_model(project, "m").model
    batch = frame.drop(columns=["label"]).head(200).copy()  # past the dict-lookup size
    batch.loc[:9, "country"] = "ZZ"
    predictions = model.predict_frame(batch)
    assert predictions.unseen == {"country": 10}
    assert np.isfinite(predictions.scores).all()


@pytest.mark.parametrize(
    ("row", "message"),
    [
        pytest.param({"amount": 1.0, "country": "FR", "night": True}, "missing", id="missing"),
        pytest.param(
            {"amount": "lots", "country": "FR", "night": True, "noise": 0.0},
            "'amount'",
            id="wrong-type",
        ),
        pytest.param(
            {"amount": 1.0, "country": 7, "night": True, "noise": 0.0},
            "'country'",
            id="number-for-string",
        ),
    ],
)
def test_bad_rows_name_the_column(project, tmp_path, frame, row, message) -> None:
    _ingest(project, tmp_path, frame)
    train(project, "t", "label", model_name="m")
    model = load_model(project, "m").model
    with pytest.raises(InvalidInput, match=message):
        model.predict_records([row])


@pytest.mark.parametrize(
    "make_leak",
    [
        pytest.param(lambda f, rng: f["label"] * 5 + rng.normal(0, 1e-3, len(f)), id="numeric"),
        pytest.param(
            lambda f, rng: np.where(f["label"] == 1, "confirmed", "clean"), id="categorical"
        ),
    ],
)
def test_near_copy_of_target_stops_training(project, tmp_path, frame, rng, make_leak) -> None:
    frame["case_status"] = make_leak(frame, rng)
    _ingest(project, tmp_path, frame)
    with pytest.raises(InvalidInput, match="near-copy of the target"):
        train(project, "t", "label")
    finding = split_frame(frame, "label").findings[0]
    assert (finding["check"], finding["column"]) == ("target_copy", "case_status")


def test_clean_table_has_no_target_copy(frame) -> None:
    assert split_frame(frame, "label").findings == []
