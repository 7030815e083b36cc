from __future__ import annotations

import pickle

import numpy as np
import pytest

from shipyard.errors import InvalidInput
from shipyard.model import FAMILIES, FeatureEncoder, FitData, get_family, infer_problem
from shipyard.model.families._flat_forest import flat_forest


def _encoded(frame_of, problem_type: str):
    frame = frame_of(500, problem_type)
    problem = infer_problem(frame["label"])
    y = problem.encode(frame["label"])
    encoder = FeatureEncoder(exclude=["label"]).fit(frame)
    x = encoder.encode_frame(frame).matrix
    return problem, encoder, x, y


@pytest.mark.parametrize("problem_type", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("family_name", list(FAMILIES))
def test_family_fits_predicts_and_pickles(frame_of, family_name: str, problem_type: str) -> None:
    problem, encoder, x, y = _encoded(frame_of, problem_type)
    assert problem.type == problem_type
    family = get_family(family_name)
    params = {"num_boost_round": 60, "iterations": 60, "n_estimators": 60}
    fit = family.fit(
        FitData(
            problem.type,
            len(problem.classes),
            x[:350],
            y[:350],
            x[350:425],
            y[350:425],
            encoder.categorical_indices_,
        ),
        {k: v for k, v in params.items() if k in family.defaults},
        seed=0,
        threads=1,
    )
    scores = family.predict(fit.estimator, x[425:], threads=1)
    restored = pickle.loads(pickle.dumps(fit.estimator))
    one_row = family.predict(restored, x[425:426], threads=1)
    np.testing.assert_allclose(one_row, scores[:1], rtol=1e-6, atol=1e-9)

    if problem_type == "multiclass":
        assert scores.shape == (75, 3)
        np.testing.assert_allclose(scores.sum(axis=1), 1.0, atol=1e-6)
        assert np.mean(scores.argmax(axis=1) == y[425:]) > 0.5
    elif problem_type == "binary":
        assert scores.shape == (75,) and np.all((scores >= 0) & (scores <= 1))
        assert np.mean((scores > 0.5) == y[425:]) > 0.7
    else:
        assert np.corrcoef(scores, y[425:])[0, 1] > 0.7
    importance = family.importance(fit.estimator, x.shape[1])
    assert importance is not None and importance.sum() == pytest.approx(1.0)
    assert int(np.argmax(importance)) == encoder.feature_names_.index("x1")


@pytest.mark.parametrize("family_name", ["lightgbm", "xgboost", "catboost"])
def test_boosters_give_curves_and_stop_when_the_hook_asks(frame_of, family_name: str) -> None:
    _, encoder, x, y = _encoded(frame_of, "binary")
    family = get_family(family_name)
    seen: list[int] = []

    def hook(iteration: int, loss: float) -> bool:
        seen.append(iteration)
        return iteration >= 7

    fit = family.fit(
        FitData("binary", 2, x[:400], y[:400], x[400:], y[400:], encoder.categorical_indices_),
        on_iteration=hook,
        threads=1,
    )
    assert fit.stopped == "hook"
    assert max(seen) == 7
    assert len(fit.curves["train_loss"]) == len(fit.curves["valid_loss"]) >= 7
    rounds = "iterations" if family_name == "catboost" else "num_boost_round"
    assert family.refit_params(fit)[rounds] == fit.best_iteration
    # a refit on a quarter more rows runs a quarter more rounds
    assert family.refit_params(fit, 1.25)[rounds] == round(1.25 * fit.best_iteration)


@pytest.mark.parametrize("family_name", ["lightgbm", "xgboost", "catboost"])
def test_a_booster_stopped_at_its_first_round_is_a_one_round_model(
    frame_of, family_name: str
) -> None:
    # A trial whose time runs out at once: XGBoost used to raise reading a best iteration
    # that early stopping had not recorded yet.
    _, encoder, x, y = _encoded(frame_of, "binary")
    family = get_family(family_name)
    fit = family.fit(
        FitData("binary", 2, x[:400], y[:400], x[400:], y[400:], encoder.categorical_indices_),
        on_iteration=lambda iteration, loss: True,
        threads=1,
    )
    assert fit.stopped == "hook"
    assert fit.best_iteration == 1
    assert family.predict(fit.estimator, x[400:]).shape[0] == len(x) - 400


def test_unknown_family_names_the_known_ones() -> None:
    with pytest.raises(InvalidInput, match=r"Did you mean 'xgboost'\?.*Known families"):
        get_family("xgbost")


def _with_gaps(x: np.ndarray, categorical: list[int], rng: np.random.Generator) -> np.ndarray:
    """Rows with missing numbers, missing categories and categories never seen."""
    x = x.copy()
    x[rng.random(x.shape) < 0.1] = np.nan
    for i in categorical:
        x[rng.random(len(x)) < 0.1, i] = 99.0  # an unseen category code
    return x


@pytest.mark.parametrize("problem_type", ["binary", "multiclass", "regression"])
def test_compiled_linear_scores_match_the_pipeline(frame_of, problem_type: str) -> None:
    problem, encoder, x, y = _encoded(frame_of, problem_type)
    cats = encoder.categorical_indices_
    rng = np.random.default_rng(1)
    x = _with_gaps(x, cats, rng)
    family = get_family("linear")
    fit = family.fit(
        FitData(problem.type, len(problem.classes), x[:350], y[:350], None, None, cats)
    )
    compiled = fit.estimator.shipyard_compiled_
    fast = family.predict(fit.estimator, x[350:])
    fit.estimator.shipyard_compiled_ = None  # the scikit-learn pipeline itself
    slow = family.predict(fit.estimator, x[350:])
    np.testing.assert_allclose(fast, slow, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        compiled.margin(x[350:]), family.raw_score(fit.estimator, x[350:]), atol=1e-9
    )


def test_catboost_scores_a_few_rows_as_it_scores_many(frame_of) -> None:
    problem, encoder, x, y = _encoded(frame_of, "binary")
    cats = encoder.categorical_indices_
    x = _with_gaps(x, cats, np.random.default_rng(2))
    family = get_family("catboost")
    fit = family.fit(
        FitData(problem.type, 2, x[:350], y[:350], x[350:425], y[350:425], cats), {"iterations": 40}
    )
    many = family.predict(fit.estimator, x[425:], threads=1)  # 75 rows: the DataFrame path
    few = np.concatenate(
        [family.predict(fit.estimator, x[i : i + 5], threads=1) for i in range(425, 500, 5)]
    )
    np.testing.assert_allclose(few, many, rtol=1e-12)


@pytest.mark.parametrize("family_name", ["extra_trees", "random_forest"])
@pytest.mark.parametrize("problem", ["binary", "multiclass", "regression"])
def test_a_forest_predicts_one_row_through_all_trees_at_once_as_scikit_learn_does(
    family_name: str, problem: str
) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 6))
    x[rng.random(x.shape) < 0.1] = np.nan  # missing values take the trained side
    signal = np.nan_to_num(x[:, 0]) + np.nan_to_num(x[:, 1]) * np.isnan(x[:, 2])
    y = {
        "binary": (signal > 0).astype(int),
        "multiclass": np.digitize(signal, [-0.5, 0.5]),
        "regression": signal + rng.normal(scale=0.1, size=600),
    }[problem]
    classes = {"binary": 2, "multiclass": 3, "regression": 0}[problem]
    family = get_family(family_name)
    fit = family.fit(FitData(problem, classes, x[:500], y[:500], None, None, []), threads=1)
    forest = fit.estimator
    expected = forest.predict_proba(x[500:]) if classes else forest.predict(x[500:])[:, None]
    flat = flat_forest(forest)
    assert flat is not None and flat.trees == len(forest.estimators_)
    walked = np.vstack([flat.row_sum(row) for row in x[500:]]) / flat.trees
    np.testing.assert_allclose(walked, expected, rtol=0, atol=1e-12)
    one = family.predict(forest, x[500:501])  # the family's single-row path
    np.testing.assert_allclose(one, family.predict(forest, x[500:])[:1], atol=1e-12)


def test_a_forest_grown_after_it_was_laid_flat_is_laid_flat_again_and_a_huge_one_never(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sklearn.ensemble import ExtraTreesRegressor

    from shipyard.model.families import _flat_forest

    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(300, 4)), rng.normal(size=300)
    forest = ExtraTreesRegressor(n_estimators=5, warm_start=True, random_state=0).fit(x, y)
    assert flat_forest(forest).trees == 5  # type: ignore[union-attr]
    forest.set_params(n_estimators=9).fit(x, y)
    assert flat_forest(forest).trees == 9  # type: ignore[union-attr]
    monkeypatch.setattr(_flat_forest, "MAX_NODES", 10)
    big = ExtraTreesRegressor(n_estimators=3, random_state=0).fit(x, y)
    assert flat_forest(big) is None
    assert get_family("extra_trees").predict(big, x[:1]) == pytest.approx(big.predict(x[:1]))


def test_extra_trees_consider_every_feature_on_regression_and_half_on_classification() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(200, 4))
    et = get_family("extra_trees")
    assert et.defaults_for("regression")["max_features"] == 1.0
    assert et.defaults_for("binary")["max_features"] == 0.5
    assert get_family("random_forest").defaults_for("regression")["max_features"] == 0.5
    fit = et.fit(FitData("regression", 0, x, x[:, 0], None, None, []), {"n_estimators": 5})
    assert fit.estimator.max_features == 1.0 and fit.params["max_features"] == 1.0
    given = et.fit(FitData("regression", 0, x, x[:, 0], None, None, []), {"max_features": 0.3})
    assert given.estimator.max_features == 0.3
