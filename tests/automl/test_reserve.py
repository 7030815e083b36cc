"""Time kept for the work after a search: measured, scaled to the data, reserved up front."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import optuna
import pandas as pd
import pytest

from shipyard.automl import Budget, Candidate, SearchData, refit_seconds
from shipyard.automl._search import SearchRun
from shipyard.model import FitResult, get_family, infer_problem
from shipyard.train import _automl_fit
from shipyard.train._automl_fit import after_search_seconds
from shipyard.train._fitting import Options, Parts


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _run(score_rows: int, clock: Clock) -> SearchRun:
    x, y = np.zeros((100, 2)), np.arange(100) % 2
    data = SearchData("binary", 2, x, y, x, y, [], score_rows=score_rows)
    return SearchRun(
        data,
        metric="roc_auc",
        families=["linear"],
        budget=Budget(60, clock),
        max_trials=None,
        log=None,
        on_progress=None,
    )


def _candidate(predict_seconds: float) -> Candidate:
    fit = FitResult(estimator=None, params={}, curves={}, fit_seconds=0.0, best_iteration=None)
    return Candidate(0, get_family("linear"), fit, None, 0.9, 0.1, predict_seconds=predict_seconds)


def test_the_reserve_grows_with_the_rows_the_chosen_model_scores_after_the_search() -> None:
    clock = Clock()
    small, large = _run(100, clock), _run(100_000, clock)
    for run in (small, large):
        run.candidates.append(_candidate(predict_seconds=0.01))  # 0.1 ms a row
    # 100,000 rows at 0.1 ms, with a 30% margin: 13 s more than for 100 rows
    assert large.reserve() - small.reserve() == pytest.approx(1.3 * 0.01 * (100_000 - 100) / 100)
    # a trial starting now may run only until the reserve begins
    assert large.slot() == pytest.approx(min(60 - large.reserve(), 0.25 * 60))
    clock.now += 60 - large.reserve() - 0.5  # half a second before the reserve
    assert large.slot() is None and large.stopped_by == "budget"


def test_a_bag_too_slow_to_keep_is_reserved_for_at_the_speed_of_one_of_its_models() -> None:
    clock = Clock()
    kept, replaced = _run(100_000, clock), _run(100_000, clock)
    bag = [object()] * 5
    # 5 fold models, 0.1 ms a row each: the bag (0.5 ms) is within the members' 1 ms
    kept.candidates.append(
        replace(_candidate(predict_seconds=0.05), latency_ms=0.5, fold_estimators=bag)
    )
    # 5 fold models, 0.4 ms a row each: the bag (2 ms) would be refit, one model predicting
    replaced.candidates.append(
        replace(_candidate(predict_seconds=0.05), latency_ms=2.0, fold_estimators=bag)
    )
    scoring = 1.3 * 0.05 * 100_000 / 100
    assert kept.reserve() - replaced.reserve() == pytest.approx(scoring * (1 - 1 / 5))


def test_a_trial_fit_on_fewer_threads_than_the_refit_is_carried_at_a_square_root_speed_up() -> None:
    fit = FitResult(estimator=None, params={}, curves={}, fit_seconds=8.0, best_iteration=None)
    one = Candidate(0, get_family("linear"), fit, None, 0.9, 0.1, threads=1)
    four = replace(one, threads=4)
    # a trial on 1 thread, refit on 4: half the time (sqrt 4); rows 75 -> 100
    assert refit_seconds([one], 75, 100, margin=1.0, threads=4) == pytest.approx(8 / 2 * 100 / 75)
    assert refit_seconds([four], 75, 100, margin=1.0, threads=4) == pytest.approx(8 * 100 / 75)
    # a refit on fewer threads than the trial is never counted slower (nor faster)
    assert refit_seconds([four], 75, 100, margin=1.0, threads=1) == pytest.approx(8 * 100 / 75)


def test_after_search_seconds_carries_a_fixed_and_a_per_row_cost_to_the_data_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the work takes 0.2 s plus 0.1 ms a row (statistics) and 0.05 s plus 0.05 ms (report)
    def timed(problem: Any, y: np.ndarray, rng: Any, options: Any) -> tuple[float, float]:
        return 0.2 + 1e-4 * len(y), 0.05 + 5e-5 * len(y)

    monkeypatch.setattr(_automl_fit, "_after_search_work", timed)
    n_valid, n_test = 40_000, 50_000
    parts = Parts(
        x={},
        y={"train": np.zeros(10), "valid": np.arange(n_valid) % 2, "test": np.zeros(n_test)},
        categorical=[],
        feature_names=[],
    )
    problem = infer_problem(pd.Series([0, 1] * 5))
    seconds = after_search_seconds(problem, parts, Options())
    report_rows = 10_000 + 0.1 * 40_000  # the bootstrap stops growing at 10,000 rows
    expected = 0.2 + 1e-4 * (n_valid + n_test) + 0.05 + 5e-5 * report_rows
    assert seconds == pytest.approx(expected)


def test_a_long_refit_runs_on_the_refit_threads_and_a_short_one_on_the_trials() -> None:
    from shipyard.train._members import _refit_threads

    def trial(seconds: float) -> Candidate:
        fit = FitResult(
            estimator=None, params={}, curves={}, fit_seconds=seconds, best_iteration=None
        )
        return Candidate(0, get_family("catboost"), fit, None, 0.9, 0.1, threads=1)

    # 12 s on one thread: the refit, alone after the search, takes all cores (0)
    assert _refit_threads(trial(12.0), 75, 100, threads=1, refit_threads=0) == 0
    # a user's thread count is kept
    assert _refit_threads(trial(12.0), 75, 100, threads=1, refit_threads=1) == 1
    # 0.1 s: OpenMP's start-up would cost more than the second core gives
    assert _refit_threads(trial(0.1), 75, 100, threads=1, refit_threads=0) == 1


def test_a_family_that_scales_with_threads_is_carried_at_its_own_speed_up() -> None:
    fit = FitResult(estimator=None, params={}, curves={}, fit_seconds=8.0, best_iteration=None)
    catboost = Candidate(0, get_family("catboost"), fit, None, 0.9, 0.1, threads=1)
    # CatBoost on 1 -> 4 threads: 4 ** 0.8 faster, where the default assumes sqrt(4)
    assert refit_seconds([catboost], 100, 100, margin=1.0, threads=4) == pytest.approx(8 / 4**0.8)


def test_a_family_s_next_trial_may_take_a_few_times_its_best_trial_s_seconds() -> None:
    clock = Clock()
    run = _run(100, clock)
    run.families = ["linear", "lightgbm"]
    fit = FitResult(estimator=None, params={}, curves={}, fit_seconds=2.0, best_iteration=None)
    run.candidates.append(Candidate(0, get_family("linear"), fit, None, 0.9, 0.1))
    study = optuna.create_study(direction="maximize")
    for family in ("linear", "lightgbm"):
        study.enqueue_trial({"family": family}, user_attrs={"default": True})
    linear, lightgbm = (run.propose(study.ask(), seconds=15.0) for _ in range(2))
    # linear's best took 2 s: its next trial gets 3 x 2 s; lightgbm, untried, the whole slot
    assert (linear.family, linear.seconds) == ("linear", 6.0)
    assert (lightgbm.family, lightgbm.seconds) == ("lightgbm", 15.0)
    # a fast best leaves the next trial at least 5% of the budget
    run.candidates[0] = replace(run.candidates[0], fit=replace(fit, fit_seconds=0.1))
    study.enqueue_trial({"family": "linear"}, user_attrs={"default": True})
    assert run.propose(study.ask(), seconds=15.0).seconds == pytest.approx(0.05 * 60)


def test_a_holdout_refit_runs_its_best_iteration_times_the_rows_it_gains() -> None:
    # Early-stopped on validation after fitting 800 rows, the refit fits 1,000: a quarter
    # more rows carry a quarter more rounds before they overfit.
    from shipyard.train._members import final_members

    rng = np.random.default_rng(0)
    x = rng.normal(size=(1000, 3))
    y = (x[:, 0] + rng.normal(size=1000) > 0).astype(np.int64)
    data = SearchData("binary", 2, x[:800], y[:800], x[800:], y[800:], [])
    family = get_family("lightgbm")
    fit = data.fit(family, {"learning_rate": 0.1}, 0, threads=1)
    candidate = Candidate(0, family, fit, None, 0.9, 0.1, threads=1)
    parts = Parts(
        x={"train": x[:800], "valid": x[800:]},
        y={"train": y[:800], "valid": y[800:]},
        categorical=[],
        feature_names=["a", "b", "c"],
    )
    members, refit = final_members(
        [(candidate, 1.0)],
        infer_problem(pd.Series(y)),
        parts,
        Options(threads=1),
        Budget(60),
        lambda _: None,
        data,
    )
    assert refit == 1 and fit.best_iteration is not None
    assert members[0][1].num_trees() == round(1.25 * fit.best_iteration)
