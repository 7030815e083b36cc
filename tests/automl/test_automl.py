from __future__ import annotations

import math
from functools import partial

import numpy as np
import pytest
from sklearn import metrics as skm

from shipyard.automl import METRICS, Budget, caruana_select, choose_metric, score
from shipyard.errors import InvalidInput
from shipyard.registry import load_model
from shipyard.train import train


class FakeClock:
    """Seconds that advance by ``tick`` every time they are read."""

    def __init__(self, tick: float) -> None:
        self.now = 1000.0
        self.tick = tick

    def __call__(self) -> float:
        self.now += self.tick
        return self.now


@pytest.mark.parametrize("seconds", [0, -5, math.nan, math.inf, True, "30"])
def test_a_budget_that_is_not_a_positive_number_is_rejected(seconds: object) -> None:
    with pytest.raises(InvalidInput, match="'time_budget' parameter of train"):
        Budget(seconds)  # type: ignore[arg-type]


def test_a_budget_too_small_to_search_and_refit_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="too small"):
        Budget(2)


def test_the_whole_train_call_ends_within_the_budget_on_an_injected_clock(
    project, ingest, frame_of
) -> None:
    ref = ingest(frame_of(400, "binary"))
    clock = FakeClock(tick=0.02)
    started = clock.now
    result = train(project, ref, "label", time_budget=20, clock=clock, seed=1)
    assert clock.now - started <= 20 * 1.10
    assert result.seconds <= 20 * 1.10
    assert result.leaderboard and result.search["trials"] >= 2
    assert result.search["failed"] == 0
    # the budget, not a trial cap, ended the search
    assert result.search["stopped_by"] == "budget"


def test_a_budget_eaten_by_data_preparation_is_a_clear_error(project, ingest, frame_of) -> None:
    ref = ingest(frame_of(200, "binary"))
    readings = iter([0.0])

    def clock() -> float:  # starts at 0, then 9 of the 10 seconds have gone
        return next(readings, 9.0)

    with pytest.raises(InvalidInput, match="leaving too little to search"):
        train(project, ref, "label", time_budget=10, clock=clock)


def test_automl_records_trials_leaderboard_and_a_loadable_model(project, ingest, frame_of) -> None:
    ref = ingest(frame_of(500, "binary"))
    seen = []
    result = train(
        project,
        ref,
        "label",
        model_name="churn",
        time_budget=15,  # 500 rows are cross-validated: each trial fits 5 to 10 folds
        families=["lightgbm", "linear", "random_forest"],
        on_trial=seen.append,
    )
    # (the wall clock is not asserted: the budget's own accounting has an injected-clock test)
    assert seen and seen[-1].metric == "roc_auc" and seen[-1].best_score > 0.8
    board = result.leaderboard
    assert result.search["failed"] == 0
    assert {row["family"] for row in board} >= {"lightgbm", "linear", "random_forest"}
    assert all(
        {"family", "params", "valid_score", "fit_seconds", "predict_ms_per_row"} <= row.keys()
        for row in board
    )
    report = project.catalog.get_report(result.model_version.ref, "leaderboard")
    assert report.payload["rows"][0]["family"] == board[0]["family"]
    trials = [r for r in project.catalog.list_runs("churn") if r.tags.get("kind") == "trial"]
    assert len(trials) == result.search["trials"] - _skipped(result)
    finished = [r for r in trials if r.outputs.get("outcome") == "finished"]
    assert finished and all("valid_score" in r.metrics for r in finished)
    boosted = next(r for r in finished if r.params["family"] == "lightgbm")
    assert project.catalog.metric_history(boosted.id, "valid_loss")
    loaded = load_model(project, result.model_version.ref).model
    one = loaded.predict_records([{c: v for c, v in frame_of(1, "binary").iloc[0].items()}])
    assert one.scores.shape == (1,)
    assert result.metrics["test"]["roc_auc"] > 0.8


def _skipped(result) -> int:
    """Trials Optuna started but the budget refused before a run was created."""
    return (
        result.search["trials"]
        - result.search["finished"]
        - result.search["pruned"]
        - (result.search["failed"])
    )


@pytest.mark.parametrize("problem_type", ["multiclass", "regression"])
def test_automl_handles_other_problem_types(project, ingest, frame_of, problem_type) -> None:
    ref = ingest(frame_of(300, problem_type))
    result = train(
        project,
        ref,
        "label",
        time_budget=30,
        families=["lightgbm", "linear"],
        max_trials=4,
    )
    assert result.search["metric"] == {"multiclass": "log_loss", "regression": "rmse"}[problem_type]
    assert result.search["stopped_by"] == "max_trials"
    assert result.search["failed"] == 0
    # 300 rows are cross-validated (stratified folds for the classes too)
    assert result.search["validation"].startswith("5-fold cross-validation")
    assert result.leaderboard[-1]["folds"] >= 5


def test_default_metric_is_pr_auc_for_rare_positives() -> None:
    assert choose_metric("binary", np.r_[np.ones(3), np.zeros(97)], None) == "pr_auc"
    assert choose_metric("binary", np.r_[np.ones(30), np.zeros(70)], None) == "roc_auc"


@pytest.mark.parametrize(
    ("problem_type", "metric", "match"),
    [
        ("regression", "roc_auc", "is for binary problems"),
        ("binary", "rmse", "is for regression problems"),
        ("binary", "roc_acu", "Did you mean 'roc_auc'"),
    ],
)
def test_a_metric_must_exist_and_fit_the_problem(problem_type, metric, match) -> None:
    with pytest.raises(InvalidInput, match=match):
        choose_metric(problem_type, np.r_[np.ones(5), np.zeros(5)], metric)


def test_train_rejects_a_metric_that_does_not_fit_before_fitting(project, ingest, frame_of) -> None:
    ref = ingest(frame_of(200, "regression"))
    with pytest.raises(InvalidInput, match="is for binary"):
        train(project, ref, "label", time_budget=10, metric="roc_auc")
    assert not project.catalog.list_runs()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"time_budget": 0}, "positive number of seconds"),
        ({"time_budget": -5}, "positive number of seconds"),
        ({"time_budget": 10, "families": ["lightgbm", "catbost"]}, "Did you mean 'catboost'"),
        ({"time_budget": 10, "families": []}, "at least one family"),
        ({"family": "forest"}, "Known families"),
        ({"families": ["linear"]}, "give time_budget"),
        ({"cost_fp": 1.0}, "both cost_fp and cost_fn"),
        ({"alert_rate": 1.5}, "share in"),
        ({"calibration": "platt"}, "'calibration' parameter"),
    ],
)
def test_bad_options_are_invalid_input(project, ingest, frame_of, kwargs, match) -> None:
    ref = ingest(frame_of(100, "binary"))
    with pytest.raises(InvalidInput, match=match):
        train(project, ref, "label", **kwargs)


def test_ensemble_never_scores_worse_than_its_best_member(rng) -> None:
    y = (rng.random(300) < 0.4).astype(float)
    members = [np.clip(y * s + rng.normal(scale=0.5, size=300), 0, 1) for s in (0.5, 0.4, 0.3)]
    members.append(rng.random(300))
    for metric in METRICS["binary"]:
        higher = metric in ("roc_auc", "pr_auc")

        def judge(p, metric=metric):
            return score(metric, "binary", y, p)

        weights, value = caruana_select(members, judge, higher_is_better=higher)
        singles = [judge(p) for p in members]
        best = max(singles) if higher else min(singles)
        assert (value >= best) if higher else (value <= best), metric
        blend = sum(w * members[i] for i, w in weights.items())
        assert judge(blend) == pytest.approx(value)
        assert sum(weights.values()) == pytest.approx(1.0)
        assert len(weights) <= 3


def test_fast_ranking_metrics_match_scikit_learn(rng) -> None:
    y = (rng.random(200) < 0.3).astype(float)
    scores = np.round(rng.random(200) + 0.3 * y, 1)  # rounding makes ties
    assert score("roc_auc", "binary", y, scores) == pytest.approx(skm.roc_auc_score(y, scores))
    assert score("pr_auc", "binary", y, scores) == pytest.approx(
        skm.average_precision_score(y, scores)
    )


def test_ensemble_members_stay_within_their_latency_limit(rng) -> None:
    signals = rng.normal(size=(4, 600))
    y = (signals.sum(axis=0) > 0).astype(float)
    members = [s + 0.5 * rng.normal(size=600) for s in signals]  # each holds a quarter
    roc_auc = partial(score, "roc_auc", "binary", y)
    free, _ = caruana_select(members, roc_auc, higher_is_better=True)
    assert len(free) == 3  # every member helps: as many as allowed
    latency = [0.7, 0.6, 0.5, 0.4]
    capped, _ = caruana_select(
        members, roc_auc, higher_is_better=True, latency_ms=latency, max_latency_ms=1.2
    )
    assert len(capped) >= 2
    assert sum(latency[i] for i in capped) <= 1.2


def test_holds_out_keeps_complementary_ensembles_and_refuses_noise() -> None:
    from shipyard.automl import holds_out

    roc_auc = partial(score, "roc_auc", "binary")

    kept = {"complementary": 0, "noise": 0}
    for seed in range(20):
        rng = np.random.default_rng(seed)
        a, b = rng.normal(size=600), rng.normal(size=600)
        y = (a + b + 0.5 * rng.normal(size=600) > 1.5).astype(int)
        signal = a + b + 0.8 * rng.normal(size=600)
        cases = {
            # each model sees half of the signal: the mix is truly better
            "complementary": [a + 0.3 * rng.normal(size=600), b + 0.3 * rng.normal(size=600)],
            # one good model and noisier copies: any gain on validation is chance
            "noise": [signal] + [signal + 3 * rng.normal(size=600) for _ in range(6)],
        }
        for name, predictions in cases.items():
            kept[name] += holds_out(
                predictions, y, roc_auc, higher_is_better=True, stratify=True, seed=seed
            )
    assert kept["complementary"] == 20
    assert kept["noise"] <= 3


def test_the_ensemble_pool_and_the_kept_estimators_hold_the_best_of_every_family() -> None:
    from shipyard.automl import Candidate
    from shipyard.automl._ensemble import ensemble_pool
    from shipyard.automl._search import _drop_weak
    from shipyard.model import FitResult, get_family

    def candidate(family: str, value: float) -> Candidate:
        fit = FitResult(
            estimator=object(), params={}, curves={}, fit_seconds=1.0, best_iteration=None
        )
        return Candidate(0, get_family(family), fit, np.zeros(3), value, 0.1)

    # twenty linear models score best, one catboost and one lightgbm trail them all
    linear = [candidate("linear", 0.95 - i / 1000) for i in range(20)]
    others = [candidate("catboost", 0.90), candidate("lightgbm", 0.89)]
    candidates = linear + others
    _drop_weak(candidates, higher=True)
    kept = [c for c in candidates if c.fit.estimator is not None]
    # the twelve best, and the best of each other family (a mix needs them)
    assert kept == linear[:12] + others
    assert all(c.valid_scores is None for c in linear[12:])
    pool = ensemble_pool(sorted(kept, key=lambda c: -c.score))
    assert [c.family.name for c in pool] == ["linear"] * 6 + ["catboost", "lightgbm"]


def test_a_seeded_search_bounded_by_trials_not_time_gives_the_same_model_twice(
    project, ingest, frame_of
) -> None:
    ref = ingest(frame_of(400, "binary"))

    def once() -> tuple:
        result = train(
            project, ref, "label", time_budget=300, families=["lightgbm", "linear"],
            max_trials=8, seed=3, threads=1,
        )  # fmt: skip
        board = [(row["family"], row["valid_score"]) for row in result.leaderboard]
        return result.search["stopped_by"], board, result.metrics["test"]

    first, second = once(), once()
    assert first[0] == "max_trials"
    assert first == second
