"""A skewed, never-negative regression target is searched as log(1 + y) when a probe fit
measures it better, and the model answers in y's own units."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shipyard.errors import InvalidInput
from shipyard.model import Problem, smearing_calibrator
from shipyard.train import TrainSpec
from shipyard.train._fitting import Parts
from shipyard.train._target import choose_target, logged


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


def _choose(parts: Parts, mode: str = "auto") -> tuple[bool, str]:
    return choose_target(
        Problem("regression", "price"), parts, "rmse", mode=mode, seed=0, threads=1,
        say=lambda _: None,
    )  # fmt: skip


def test_auto_searches_a_multiplicative_target_as_log_one_plus_y(rng) -> None:
    y, x = _multiplicative(rng)
    chosen, note = _choose(_parts(y, x))
    assert chosen, note
    assert note.startswith("log(1 + y): a LightGBM probe scored validation rmse")


def test_auto_keeps_an_additive_target_and_says_why(rng) -> None:
    x = rng.normal(size=(3000, 3))
    additive = 10 + x[:, 0] + rng.normal(size=3000)  # symmetric: no probe
    chosen, note = _choose(_parts(additive, x))
    assert not chosen and "skewness" in note
    below = _choose(_parts(additive - 20, x))  # negative values: never logged
    assert below == (False, "y as given: it has negative values")
    with pytest.raises(InvalidInput, match="needs y >= 0, but 'price' goes down to"):
        _choose(_parts(additive - 20, x), "log")
    assert _choose(_parts(*_multiplicative(rng)), "none")[0] is False


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
    assert TrainSpec.of(time_budget=30).search.target_transform == "none"


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
                   max_trials=4, split="random", seed=0, target_transform="auto")  # fmt: skip
    model = load_model(project, result.model_version.ref).model
    project.close()
    assert result.search["target_note"].startswith("log(1 + y)")
    assert model.calibrator is not None and model.calibrator.method == "exp"
    rows = frame.drop(columns=["price"]).head(50)
    values = model.predict_frame(rows).scores
    assert values.min() > 0 and 0.5 < values.mean() / y[:50].mean() < 2  # y's units
    [item] = model.explain_records(rows.head(1).to_dict("records"))
    assert item["space"] == "log(1 + value)"
    assert item["score"] == pytest.approx(float(model.calibrator.apply(item["raw_score"])))
    assert result.metrics["test"]["rmse"] < 0.8 * float(np.std(y))
