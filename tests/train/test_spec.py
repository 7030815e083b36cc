"""TrainSpec: one validated description of a training job, built by every face."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.e2e.cli import shipyard

from shipyard.errors import InvalidInput
from shipyard.train import DecisionSpec, ReportSpec, SearchSpec, SplitSpec, TrainSpec


def test_flat_options_build_the_parts() -> None:
    spec = TrainSpec.of(
        split="time",
        time_column="day",
        time_budget=60,
        families=["lightgbm", "linear"],
        alert_rate=0.01,
        slice_by="plan",
        model_name="fraud",
    )
    assert spec.split == SplitSpec("time", time_column="day")
    assert spec.search.automl and spec.search.families == ("lightgbm", "linear")
    assert spec.decision.rule == "alert_rate"
    assert spec.report == ReportSpec(slice_by=("plan",))
    assert spec.model_name == "fraud"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"split": "tme"}, "Did you mean 'time'"),
        ({"split": "time"}, "needs the 'time_column' parameter"),
        ({"families": ["lightgbm"]}, "give time_budget"),
        ({"max_trials": 3}, "give time_budget"),
        ({"time_budget": 60, "max_trials": 0}, "'max_trials' parameter of train must be"),
        ({"time_budget": -5}, "positive number of seconds. Got -5"),
        ({"time_budget": 60, "families": ["lgbm"]}, "Unknown model family 'lgbm'"),
        ({"time_budget": 60, "params": {"num_leaves": 7}}, "chooses its own"),
        ({"family": "svm"}, "Unknown model family 'svm'"),
        ({"backend": "ray"}, "give time_budget"),
        ({"threads": -1}, "'threads' parameter of train must be an integer"),
        ({"calibration": "platt"}, "'calibration' parameter of train must be one of"),
        ({"cost_fp": 1.0}, "Give both cost_fp and cost_fn"),
        ({"problem_type": "ranking"}, "'problem_type' parameter of train must be one of"),
        ({"facet_threshold": 3.0}, "give the facet column too"),
        ({"time_budgt": 60}, "Did you mean 'time_budget'"),
        ({"model_name": "bad name!"}, "name"),
    ],
)
def test_an_invalid_spec_cannot_be_made(options: dict, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        TrainSpec.of(**options)


def test_parts_validate_on_their_own() -> None:
    with pytest.raises(InvalidInput, match="alert_rate"):
        DecisionSpec(alert_rate=2.0)
    with pytest.raises(InvalidInput, match="positive number"):
        SearchSpec(time_budget=float("nan"))


def test_train_takes_a_spec_or_options_not_both(project) -> None:
    from shipyard.train import train

    with pytest.raises(InvalidInput, match="either a spec or keyword options"):
        train(project, "d", "y", TrainSpec(), split="random")


@pytest.mark.e2e
def test_the_cli_passes_the_new_options_through(tmp_path: Path, frame) -> None:
    frame.to_parquet(tmp_path / "t.parquet")
    shipyard(tmp_path, "init")
    shipyard(tmp_path, "ingest", "t.parquet", "--name", "t")
    out = shipyard(
        tmp_path, "train", "t", "-t", "label", "--family", "linear",
        "--params", '{"C": 0.5}', "--threads", "1", "--json",
    )  # fmt: skip
    assert '"model": "t:1"' in out.stdout
    runs = shipyard(tmp_path, "runs", "list", "--json").stdout
    assert '"family": "linear"' in runs and '"C": 0.5' in runs
    bad = shipyard(tmp_path, "train", "t", "-t", "label", "--params", "{oops", check=False)
    assert bad.returncode == 1 and "--params must be a JSON object" in bad.stderr
    assert "Traceback" not in bad.stderr
