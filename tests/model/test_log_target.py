"""Log twins: boosters fit on log(1 + y) that predict, refit and explain in y's units."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from shipyard.errors import InvalidInput
from shipyard.model import LOG_TWINS, FitData, get_family, log_twin_of, twinned

_ROUNDS = {"num_boost_round": 300, "iterations": 300}


def _prices(rng: np.random.Generator, n: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    """Effects that multiply, noise that grows with the value: log(1 + y) is additive."""
    x = rng.normal(size=(n, 3))
    return x, np.expm1(0.6 * x.sum(axis=1) + 0.2 * rng.normal(size=n) + 6)


def _data(x: np.ndarray, y: np.ndarray) -> FitData:
    a, b = int(0.6 * len(y)), int(0.8 * len(y))
    return FitData("regression", 0, x[:a], y[:a], x[a:b], y[a:b], [])


def _params(family) -> dict:
    return {k: v for k, v in _ROUNDS.items() if k in family.defaults_for("regression")}


@pytest.mark.parametrize("name", list(LOG_TWINS))
def test_a_twin_fits_log_one_plus_y_and_answers_in_y(rng, name: str) -> None:
    x, y = _prices(rng)
    twin, plain = get_family(name), get_family(twinned(name))
    assert twinned(name) != name and log_twin_of(twinned(name)) == name
    fit = twin.fit(_data(x, y), _params(twin), seed=0, threads=1)
    on_y = plain.fit(_data(x, y), _params(plain), seed=0, threads=1)
    test_x, test_y = x[2400:], y[2400:]
    values = twin.predict(fit.estimator, test_x, threads=1)
    rmse = float(np.sqrt(np.mean((values - test_y) ** 2)))
    rmse_y = float(np.sqrt(np.mean((plain.predict(on_y.estimator, test_x) - test_y) ** 2)))
    assert rmse < rmse_y  # the multiplicative structure, learned on its own scale
    # the smearing factor maps the median back to the mean: over 1, carried in the params
    assert fit.params["smearing"] == pytest.approx(fit.estimator.back.slope)
    assert 1.0 < fit.params["smearing"] < 1.1
    restored = pickle.loads(pickle.dumps(fit.estimator))
    np.testing.assert_allclose(twin.predict(restored, test_x[:1], threads=1), values[:1])


def test_a_refit_keeps_the_trials_smearing_and_grows_its_rounds(rng) -> None:
    x, y = _prices(rng)
    twin = get_family("lightgbm_log")
    fit = twin.fit(_data(x, y), {"num_boost_round": 400}, seed=0, threads=1)
    params = twin.refit_params(fit, grow=1.5)
    assert params["num_boost_round"] == round(fit.best_iteration * 1.5)
    everything = FitData("regression", 0, x[:2400], y[:2400], None, None, [])
    refit = twin.fit(everything, params, seed=0, threads=1)
    assert refit.estimator.back.slope == fit.params["smearing"]  # not re-learned in-sample


def test_contributions_add_up_to_the_prediction_in_y(rng) -> None:
    x, y = _prices(rng)
    twin = get_family("lightgbm_log")
    fit = twin.fit(_data(x, y), {"num_boost_round": 100}, seed=0, threads=1)
    rows = x[2400:2420]
    contrib = twin.contributions(fit.estimator, rows)
    assert contrib.shape == (20, 1, 4)
    np.testing.assert_allclose(contrib.sum(axis=2)[:, 0], twin.predict(fit.estimator, rows))
    np.testing.assert_allclose(twin.raw_score(fit.estimator, rows)[:, 0], contrib.sum(axis=2)[:, 0])
    # a feature that raises log(1 + y) raises y
    on_log = twin.inner.contributions(fit.estimator.inner, rows)
    assert (np.sign(contrib[:, 0, :3]) == np.sign(on_log[:, 0, :3])).all()


def test_a_twin_refuses_classes_and_negative_targets(rng) -> None:
    x, y = _prices(rng, 300)
    twin = get_family("xgboost_log")
    with pytest.raises(InvalidInput, match=r"needs y >= 0.*Use xgboost"):
        twin.fit(_data(x, y - 1e6), None, seed=0, threads=1)
    data = _data(x, (y > np.median(y)).astype(float))
    with pytest.raises(InvalidInput, match="regression target; this is a binary problem"):
        twin.fit(FitData("binary", 2, data.x_train, data.y_train, None, None, []), None)
    assert log_twin_of("linear") is None and twinned("linear") == "linear"


def test_a_search_may_be_given_twins_by_name() -> None:
    from shipyard.automl import check_families

    assert check_families(["catboost_log", "linear", "catboost_log"]) == ["catboost_log", "linear"]
    with pytest.raises(InvalidInput, match="Did you mean 'lightgbm_log'"):
        check_families(["lightgbm_lg"])
