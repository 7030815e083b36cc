from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pytest

from shipyard.automl import _stacking, score
from shipyard.automl._stacking import fit_stacker, wins_out_of_fold
from shipyard.errors import InvalidInput
from shipyard.model import (
    FeatureEncoder,
    FitData,
    StackedEstimator,
    StackedFamily,
    TabularModel,
    get_family,
    infer_problem,
)
from shipyard.model.stacking import link_features, stack_scores


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _auc():
    return partial(score, "roc_auc", "binary")


def test_a_stack_that_can_subtract_a_shared_nuisance_wins_out_of_fold() -> None:
    # Member 1 mixes the signal with a nuisance that member 2 carries alone: a weight of -1
    # on member 2 removes it, which no average of probabilities can do.
    rng = np.random.default_rng(0)
    signal, nuisance = rng.normal(size=(2, 2000))
    y = (rng.random(2000) < _sigmoid(2 * signal)).astype(float)
    p1, p2 = _sigmoid(2 * signal + 2 * nuisance), _sigmoid(2 * nuisance)
    won, stacked, rival = wins_out_of_fold(
        "binary", [p1, p2], [p1, p2], y, _auc(), higher_is_better=True, ensemble=True
    )
    assert won and stacked > rival + 0.05


def test_a_stack_of_copies_of_one_model_is_not_chosen() -> None:
    # Any stack of copies is a monotone map of the one model: it cannot rank better.
    rng = np.random.default_rng(1)
    z = rng.normal(size=1500)
    y = (rng.random(1500) < _sigmoid(z)).astype(float)
    p = _sigmoid(z)
    won, _, _ = wins_out_of_fold(
        "binary", [p, p, p], [p], y, _auc(), higher_is_better=True, ensemble=False
    )
    assert not won


@pytest.mark.parametrize("seed", range(4))
def test_a_stack_over_a_calibrated_model_and_noise_is_not_chosen(seed: int) -> None:
    # The first model is the truth, recalibrated on these very rows (the best any stack of
    # it alone could do), and the others are noise: a stack can only add variance.
    rng = np.random.default_rng(seed)
    z = rng.normal(size=1500)
    y = (rng.random(1500) < _sigmoid(z)).astype(float)
    weights, bias = fit_stacker("binary", [z[:, None]], y)
    p = _sigmoid(weights[0] * z + bias[0])
    noise = [rng.random(1500), rng.random(1500)]
    for metric, higher in (("log_loss", False), ("roc_auc", True)):
        won, _, _ = wins_out_of_fold(
            "binary",
            [p, *noise],
            [p, *noise],
            y,
            partial(score, metric, "binary"),
            higher_is_better=higher,
            ensemble=True,
            seed=seed,
        )
        assert not won, metric


# Seeds on which the rival takes each model on some folds (with pooled scores, the stack
# "won" on all four, by 0.06-0.09 ROC AUC).
@pytest.mark.parametrize("seed", [2, 4, 5, 7])
def test_a_rival_that_picks_other_models_on_other_folds_is_judged_fold_by_fold(seed: int) -> None:
    # Two ties on very different scales: the rival (the best single model, re-chosen on
    # each fold's other rows) takes one on some folds and the other on the rest. Pooled,
    # their scores do not rank against each other and the rival looked far worse than
    # either; a "stack" of copies of one of them cannot rank better than it.
    rng = np.random.default_rng(seed)
    z = rng.normal(size=3000)
    y = (rng.random(3000) < _sigmoid(2 * z)).astype(float)
    p1 = _sigmoid(2 * z)
    p2 = np.clip(p1 + rng.normal(scale=3e-3, size=3000), 1e-6, 1) ** 8
    won, stacked, rival = wins_out_of_fold(
        "binary", [p1, p1], [p1, p2], y, _auc(), higher_is_better=True, ensemble=False, seed=seed
    )
    assert not won
    assert abs(stacked - rival) < 0.002


def test_the_level_one_learner_never_sees_the_rows_it_is_judged_on(monkeypatch) -> None:
    # Each member's score encodes its row number, so the rows a stacker is fit on and the
    # rows it is then scored on can be told apart.
    n = 500
    rows = np.arange(n)
    p = (rows + 1) / (n + 2)
    y = (rows % 3 == 0).astype(float)
    fitted_on: list[set[float]] = []
    scored_on: list[set[float]] = []
    real_fit, real_scores = _stacking.fit_stacker, _stacking.stack_scores

    def spy_fit(problem, features, target):
        fitted_on.append(set(features[0][:, 0].round(9)))
        return real_fit(problem, features, target)

    def spy_scores(problem, features, weights, bias):
        scored_on.append(set(features[0][:, 0].round(9)))
        return real_scores(problem, features, weights, bias)

    monkeypatch.setattr(_stacking, "fit_stacker", spy_fit)
    monkeypatch.setattr(_stacking, "stack_scores", spy_scores)
    wins_out_of_fold("binary", [p, p], [p], y, _auc(), higher_is_better=True, ensemble=False)
    assert len(fitted_on) == len(scored_on) == 5
    for fit_rows, held_rows in zip(fitted_on, scored_on, strict=True):
        assert held_rows and not fit_rows & held_rows
    assert set().union(*scored_on) == set(link_features("binary", p)[:, 0].round(9))


def test_too_few_rows_to_fold_give_no_verdict() -> None:
    y = np.array([0, 1, 0, 1, 0, 1, 0, 1], dtype=float)
    p = np.linspace(0.1, 0.9, 8)
    assert wins_out_of_fold("binary", [p, p], [p], y, _auc(), higher_is_better=True,
                            ensemble=False) is None  # fmt: skip


@pytest.mark.parametrize("problem", ["multiclass", "regression"])
def test_the_level_one_learner_recovers_planted_weights(problem: str) -> None:
    rng = np.random.default_rng(2)
    n, k = 4000, 3
    if problem == "regression":
        a, b = rng.normal(size=(2, n))
        y = 2.0 * a - 0.5 * b + 1.0 + rng.normal(scale=0.01, size=n)
        weights, bias = fit_stacker(problem, [a[:, None], b[:, None]], y)
        np.testing.assert_allclose(weights, [2.0, -0.5], atol=0.01)
        np.testing.assert_allclose(bias, [1.0], atol=0.01)
        return
    logits = rng.normal(size=(n, k))
    truth = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(k, p=row) for row in truth], dtype=float)
    soft = np.exp(0.5 * logits) / np.exp(0.5 * logits).sum(axis=1, keepdims=True)
    weights, _ = fit_stacker(problem, [link_features(problem, soft)], y)
    assert weights[0] == pytest.approx(2.0, abs=0.25)  # sharpens the under-confident member


def _members(frame_of, problem_type, names):
    frame = frame_of(300, problem_type)
    problem = infer_problem(frame["label"])
    y = problem.encode(frame["label"])
    encoder = FeatureEncoder(exclude=["label"]).fit(frame)
    x = encoder.encode_frame(frame).matrix
    data = FitData(problem.type, len(problem.classes), x[:220], y[:220], x[220:260],
                   y[220:260], encoder.categorical_indices_)  # fmt: skip
    members = []
    for name, weight in names:
        family = get_family(name)
        members.append((family, family.fit(data, threads=1).estimator, weight))
    k = len(problem.classes) if problem.type == "multiclass" else 1
    estimator = StackedEstimator(members, np.linspace(-0.2, 0.2, k), problem.type)
    return frame, problem, encoder, x[260:], estimator


@pytest.mark.parametrize("problem_type", ["binary", "multiclass", "regression"])
def test_stack_contributions_sum_exactly_to_its_score(frame_of, problem_type) -> None:
    _, _, _, x, estimator = _members(
        frame_of, problem_type, [("lightgbm", 1.3), ("linear", -0.4), ("xgboost", 0.5)]
    )
    family = StackedFamily()
    contrib = family.contributions(estimator, x)
    k = 3 if problem_type == "multiclass" else 1
    assert contrib.shape == (len(x), k, x.shape[1] + 1)
    scores = family.predict(estimator, x, threads=1).reshape(len(x), -1)
    np.testing.assert_allclose(contrib.sum(axis=2), scores, rtol=1e-6, atol=1e-6)
    assert np.abs(contrib[:, :, :-1]).sum() > 0.01 * len(x)


def test_stack_predicts_its_members_link_space_combination(frame_of) -> None:
    _, _, _, x, estimator = _members(frame_of, "binary", [("lightgbm", 0.7), ("linear", 0.6)])
    features = [link_features("binary", f.predict(m, x, threads=1)) for f, m, _ in
                estimator.members]  # fmt: skip
    expected = stack_scores("binary", features, np.array([0.7, 0.6]), estimator.bias)
    np.testing.assert_allclose(StackedFamily().predict(estimator, x), expected)
    manual = _sigmoid(
        estimator.bias[0] + sum(w * f[:, 0] for w, f in zip([0.7, 0.6], features, strict=True))
    )
    np.testing.assert_allclose(expected, manual)


def test_a_stack_with_a_forest_is_explained_by_its_heaviest_explaining_member(frame_of) -> None:
    frame, problem, encoder, x, estimator = _members(
        frame_of, "binary", [("random_forest", 0.9), ("lightgbm", 0.5)]
    )
    assert StackedFamily().contributions(estimator, x) is None
    model = TabularModel(encoder, StackedFamily(), estimator, problem, 0.5, None, {})
    [item] = model.explain_records(frame.drop(columns=["label"]).head(1).to_dict("records"))
    assert item["explained_by"] == "lightgbm" and item["exact"] is False


def test_a_stack_cannot_be_fit_directly() -> None:
    with pytest.raises(InvalidInput, match="assembled by AutoML"):
        StackedFamily().fit(None)  # type: ignore[arg-type]


def test_a_search_on_a_linear_truth_keeps_no_stack_and_says_why() -> None:
    # y follows a logistic model of x: the linear family is the truth, and a stack over it
    # and a booster has nothing to add out of fold.
    from shipyard.automl import Budget, SearchData, search
    from shipyard.evaluation.console import search_notes

    rng = np.random.default_rng(3)
    x = rng.normal(size=(1200, 4))
    y = (rng.random(1200) < _sigmoid(x @ np.array([1.5, -1.0, 0.5, 0.0]))).astype(np.int64)
    data = SearchData("binary", 2, x[:700], y[:700], x[700:], y[700:], [])
    result = search(data, metric="roc_auc", families=["linear", "lightgbm"], budget=Budget(30),
                    max_trials=4)  # fmt: skip
    assert result.stack is None
    assert result.stack_note.startswith("not built: out of fold")
    assert result.leaderboard()[0]["family"] != "stack"
    lines = search_notes({"stack_note": result.stack_note})
    assert lines[-1].startswith("  stack: not built")


def test_members_are_the_best_of_each_family_within_the_latency_limit() -> None:
    from types import SimpleNamespace

    def candidate(family: str, latency: float, scores: bool = True) -> Any:
        return SimpleNamespace(family=SimpleNamespace(name=family), single_latency_ms=latency,
                               valid_scores=np.zeros(3) if scores else None)  # fmt: skip

    ranked = [
        candidate("lightgbm", 0.4),
        candidate("lightgbm", 0.1),  # same family: only its best counts
        candidate("xgboost", 0.2, scores=False),  # its predictions were dropped
        candidate("catboost", 1.0),  # would pass the limit with the first
        candidate("linear", 0.1),
        candidate("extra_trees", 0.5),
        candidate("random_forest", 0.1),  # a fourth family: past the size limit
    ]
    assert _stacking.stack_members(ranked, 1.2) == [0, 4, 5]  # type: ignore[arg-type]


def test_a_cross_validated_stack_adds_the_mean_log_odds_of_each_members_fold_models(
    tmp_path, monkeypatch
) -> None:
    from tests.conftest import serve_frame

    from shipyard.ingest import ingest_path
    from shipyard.project import init_project
    from shipyard.registry import load_model
    from shipyard.train import _automl_fit, train

    project = init_project(tmp_path)
    serve_frame().to_parquet(tmp_path / "d.parquet")
    ingest_path(project, tmp_path / "d.parquet", "d")
    # The stack wins, and bags of fold models are fast enough (a busy machine measures).
    monkeypatch.setattr(_stacking, "wins_out_of_fold", lambda *a, **k: (True, 0.99, 0.98))
    monkeypatch.setattr(_automl_fit, "members_ms", lambda encoder: 1e6)
    train(project, "d", "y", model_name="m", exclude=["tier", "spend"], time_budget=15,
          families=["lightgbm", "linear"], max_trials=4, seed=0)  # fmt: skip
    model = load_model(project, "m:1").model
    project.close()
    assert isinstance(model.family, StackedFamily)
    members = model.estimator.members
    assert len(members) == 10  # two families, five fold models each
    frame = serve_frame(40, seed=1).drop(columns=["y", "tier", "spend"])
    x = model.encoder.encode_frame(frame).matrix
    margin = model.estimator.bias[0] + sum(
        w * link_features("binary", f.predict(m, x, threads=1))[:, 0] for f, m, w in members
    )
    np.testing.assert_allclose(model.family.predict(model.estimator, x), _sigmoid(margin))
    for family in ("lightgbm", "linear"):  # each fold model carries a fifth of the weight
        weights = [w for f, _, w in members if f.name == family]
        np.testing.assert_allclose(weights, weights[0])
    contrib = model.family.contributions(model.estimator, x)
    np.testing.assert_allclose(
        contrib.sum(axis=2)[:, 0], model.family.predict(model.estimator, x), atol=1e-6
    )


def test_the_heaviest_bags_stay_while_the_model_predicts_within_its_latency_limit() -> None:
    from types import SimpleNamespace

    from shipyard.automl._result import Candidate
    from shipyard.train._members import _bags_kept

    def member(latency: float, folds: int) -> Any:
        c = SimpleNamespace(latency_ms=latency, fold_estimators=[None] * folds)
        c.single_latency_ms = Candidate.single_latency_ms.fget(c)  # type: ignore[attr-defined]
        return c

    heavy, light, slow = member(1.0, 5), member(0.5, 5), member(3.0, 5)
    # Singles 0.2 + 0.1; the heavy bag adds 0.8 (1.1 ms in all), the light one 0.4 more.
    assert _bags_kept([(heavy, 0.6), (light, 0.4)], 1.2) == {0}
    assert _bags_kept([(light, 0.7), (heavy, 0.3)], 1.2) == {0}  # 0.7 ms: the heavy one is 1.5
    assert _bags_kept([(slow, 1.0)], 1.2) == set()  # a bag of 3 ms is refit
    assert _bags_kept([(light, 1.0)], 1.2) == {0}
    assert _bags_kept([(light, 1.0)], 0.4) == set()  # a wide table's encoding left 0.4 ms


def test_the_members_latency_budget_shrinks_with_the_cost_of_encoding_a_row(rng) -> None:
    import pandas as pd

    from shipyard.automl import MEMBERS_MAX_MS
    from shipyard.train._members import members_ms

    narrow = FeatureEncoder().fit(pd.DataFrame({"a": rng.normal(size=50), "b": ["x"] * 50}))
    assert members_ms(narrow) == MEMBERS_MAX_MS
    wide = FeatureEncoder().fit(pd.DataFrame(rng.normal(size=(50, 400))).add_prefix("f"))
    assert 0.3 <= members_ms(wide) < MEMBERS_MAX_MS  # 400 columns take ~2 ms to encode
