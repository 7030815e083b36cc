"""A skewed, never-negative regression target is searched on y and on log(1 + y) side by
side (or as log(1 + y) alone, when asked), and the model answers in y's own units."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shipyard.errors import InvalidInput
from shipyard.model import Problem, smearing_calibrator
from shipyard.train import TrainSpec
from shipyard.train._fitting import Parts
from shipyard.train._target import choose_target, logged, with_twins


def _parts(y: np.ndarray, x: np.ndarray) -> Parts:
    n = len(y)
    a, b = int(0.6 * n), int(0.8 * n)
    cut = {"train": slice(0, a), "valid": slice(a, b), "test": slice(b, n)}
    return Parts(
        {k: x[s] for k, s in cut.items()}, {k: y[s] for k, s in cut.items()}, [], ["a", "b", "c"]
    )


def _multiplicative(rng: np.random.Generator, n: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """Prices: every feature's effect multiplies the others' (adds in log space), and the
    noise grows with the value. A tree of y needs splits on every pair; of log(1 + y), not."""
    x = rng.normal(size=(n, 3))
    y = np.exp(0.5 * x.sum(axis=1) + 0.1 * rng.normal(size=n) + 5)
    return y, x


def _choose(parts: Parts, mode: str = "auto", families=("lightgbm", "linear")) -> tuple[str, str]:
    return choose_target(Problem("regression", "price"), parts, list(families), mode)


def test_auto_searches_a_skewed_target_on_both_scales(rng) -> None:
    y, x = _multiplicative(rng)
    scale, note = _choose(_parts(y, x))
    assert scale == "both", note
    assert note.startswith("y and log(1 + y) (skewness") and "lightgbm_log" in note
    assert with_twins(["lightgbm", "linear", "catboost", "xgboost"]) == [
        "lightgbm", "lightgbm_log", "linear", "catboost", "catboost_log", "xgboost",
        "xgboost_log",
    ]  # fmt: skip
    assert with_twins(["lightgbm_log", "lightgbm"]) == ["lightgbm_log", "lightgbm"]
    alone = _choose(_parts(y, x), families=["linear", "random_forest"])
    assert alone == ("y", "y as given: none of the searched families has a log(1 + y) twin")
    assert _choose(_parts(y, x), "log") == ("log", "log(1 + y) (target_transform log)")
    with pytest.raises(InvalidInput, match=r"log\(1 \+ log\(1 \+ y\)\). Search lightgbm"):
        _choose(_parts(y, x), "log", families=["lightgbm_log"])
    with pytest.raises(InvalidInput, match=r"'label' is a binary target\. Search xgboost"):
        choose_target(Problem("binary", "label"), _parts(y, x), ["linear", "xgboost_log"], "auto")


def test_auto_keeps_an_additive_target_and_says_why(rng) -> None:
    x = rng.normal(size=(3000, 3))
    additive = 10 + x[:, 0] + rng.normal(size=3000)  # symmetric
    scale, note = _choose(_parts(additive, x))
    assert scale == "y" and "skewness" in note
    below = _choose(_parts(additive - 20, x))  # negative values: never logged
    assert below == ("y", "y as given: it has negative values")
    with pytest.raises(InvalidInput, match="needs y >= 0, but 'price' goes down to"):
        _choose(_parts(additive - 20, x), "log")
    assert _choose(_parts(*_multiplicative(rng)), "none")[0] == "y"


def test_smearing_maps_log_predictions_to_the_mean_not_the_median(rng) -> None:
    log_mean = rng.normal(size=20000)
    y = np.expm1(log_mean + rng.normal(scale=0.5, size=20000))
    calibrator = smearing_calibrator(y, log_mean)
    assert calibrator.slope == pytest.approx(np.exp(0.5**2 / 2), rel=0.02)  # lognormal mean
    assert calibrator.apply(log_mean).mean() == pytest.approx(y.mean(), rel=0.03)
    assert np.expm1(log_mean).mean() < 0.92 * y.mean()  # plain expm1 is biased low
    parts = _parts(y, rng.normal(size=(20000, 3)))
    np.testing.assert_allclose(logged(parts).y["valid"], np.log1p(parts.y["valid"]))


def test_target_transform_is_checked_and_belongs_to_a_search() -> None:
    with pytest.raises(InvalidInput, match="must be one of auto, none, log"):
        TrainSpec.of(time_budget=30, target_transform="sqrt")
    with pytest.raises(InvalidInput, match="'target_transform' shape an AutoML search"):
        TrainSpec.of(target_transform="log")
    assert TrainSpec.of(time_budget=30).search.target_transform == "auto"


def test_a_search_on_prices_answers_in_prices_and_explains_in_log_space(tmp_path, rng) -> None:
    from shipyard.ingest import ingest_path
    from shipyard.project import init_project
    from shipyard.registry import load_model
    from shipyard.train import train

    y, x = _multiplicative(rng, 3000)
    frame = pd.DataFrame(x, columns=["a", "b", "c"]).assign(price=y)
    frame.to_parquet(tmp_path / "prices.parquet")
    project = init_project(tmp_path / "p")
    ingest_path(project, tmp_path / "prices.parquet", "prices")
    result = train(project, "prices", "price", time_budget=20, families=["lightgbm", "linear"],
                   max_trials=4, split="random", seed=0, target_transform="log")  # fmt: skip
    model = load_model(project, result.model_version.ref).model
    project.close()
    assert result.search["target_note"] == "log(1 + y) (target_transform log)"
    assert model.calibrator is not None and model.calibrator.method == "exp"
    rows = frame.drop(columns=["price"]).head(50)
    values = model.predict_frame(rows).scores
    assert values.min() > 0 and 0.5 < values.mean() / y[:50].mean() < 2  # y's units
    [item] = model.explain_records(rows.head(1).to_dict("records"))
    assert item["space"] == "log(1 + value)"
    assert item["score"] == pytest.approx(float(model.calibrator.apply(item["raw_score"])))
    assert result.metrics["test"]["rmse"] < 0.8 * float(np.std(y))


def test_a_search_on_both_scales_mixes_them_and_answers_in_prices(tmp_path, rng) -> None:
    from shipyard.ingest import ingest_path
    from shipyard.project import init_project
    from shipyard.registry import load_model
    from shipyard.train import train

    y, x = _multiplicative(rng, 3000)
    frame = pd.DataFrame(x, columns=["a", "b", "c"]).assign(price=y)
    frame.to_parquet(tmp_path / "prices.parquet")
    project = init_project(tmp_path / "p")
    ingest_path(project, tmp_path / "prices.parquet", "prices")
    result = train(project, "prices", "price", time_budget=30, families=["lightgbm", "linear"],
                   max_trials=6, split="random", seed=0, threads=1)  # fmt: skip
    model = load_model(project, result.model_version.ref).model
    project.close()
    assert result.search["target_note"].startswith("y and log(1 + y)")
    tried = {row["family"] for row in result.leaderboard}
    assert {"lightgbm", "lightgbm_log", "linear"} <= tried
    # The log twin wins on a multiplicative target, and the model needs no calibrator:
    # every member answers in prices.
    assert "lightgbm_log" in (result.search.get("ensemble_note") or result.search["chosen"])
    assert model.calibrator is None
    rows = frame.drop(columns=["price"]).head(50)
    values = model.predict_frame(rows).scores
    assert values.min() > 0 and 0.5 < values.mean() / y[:50].mean() < 2
    [item] = model.explain_records(rows.head(1).to_dict("records"))
    assert item["score"] == pytest.approx(float(values[0]), rel=1e-6)
