"""Selection by k-fold cross-validation below a size, the holdout above; parallel trials."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

import shipyard.automl._cv as cv_module
import shipyard.automl._local as local_module
from shipyard.automl import CV_MAX_ROWS, Budget, SearchData, cross_validated, search
from shipyard.model import EnsembleEstimator, EnsembleFamily
from shipyard.registry import load_model
from shipyard.train import train


def _data(n: int, seed: int = 0) -> SearchData:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    y = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(scale=0.7, size=n) > 0).astype(np.int64)
    cut = int(n * 0.8)
    return SearchData("binary", 2, x[:cut], y[:cut], x[cut:], y[cut:], [])


def test_selection_cross_validates_below_the_threshold_and_not_above() -> None:
    small = cross_validated(_data(300), seed=0)
    assert small.folds is not None and small.folds.k == 5
    # the pool is train + validation; every row is held out once per repeat
    assert len(small.y_valid) == 300 and small.x_train is small.x_valid
    held = np.concatenate([h for _, h in small.folds.splits[: small.folds.k]])
    assert sorted(held.tolist()) == list(range(300))
    assert cross_validated(_data(300), seed=0, max_rows=300).folds is None
    at_threshold = SearchData(
        "binary",
        2,
        np.zeros((CV_MAX_ROWS - 100, 1)),
        np.zeros(CV_MAX_ROWS - 100),
        np.zeros((100, 1)),
        np.ones(100),
        [],
    )
    assert cross_validated(at_threshold, seed=0).folds is None


def test_a_refit_grows_by_the_rows_it_sees_beyond_one_fit() -> None:
    # holdout: train + validation over train; k folds: each fit saw (k - 1) / k of the pool
    assert _data(1000).refit_growth() == pytest.approx(1000 / 800)
    assert cross_validated(_data(1000), seed=0).refit_growth() == pytest.approx(5 / 4)


def test_the_leaderboard_shows_the_fold_mean_and_spread() -> None:
    data = cross_validated(_data(400), seed=0)
    result = search(
        data,
        metric="roc_auc",
        families=["lightgbm", "linear"],
        budget=Budget(60),
        max_trials=3,
        threads=1,
    )
    assert result.validation.startswith("5-fold cross-validation")
    for row in result.leaderboard():
        if row["family"] == "ensemble":
            continue
        assert row["folds"] in (5, 10)
        assert row["fold_mean"] == pytest.approx(row["valid_score"])
        assert 0 < row["fold_std"] < 0.2
    best = result.best
    assert best.fold_estimators is not None and len(best.fold_estimators) == 5
    assert best.valid_scores is not None and best.valid_scores.shape == (400,)


def test_a_holdout_search_has_no_fold_columns() -> None:
    result = search(
        _data(400), metric="roc_auc", families=["linear"], budget=Budget(30), max_trials=2
    )
    assert result.validation == "holdout"
    assert "fold_mean" not in result.leaderboard()[0]


class ThreadSafeClock:
    """Fake seconds that advance by ``tick`` at every reading, from any thread."""

    def __init__(self, tick: float) -> None:
        import threading

        self.now = 1000.0
        self.tick = tick
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            self.now += self.tick
            return self.now


def test_parallel_trials_keep_within_the_budget(monkeypatch) -> None:
    monkeypatch.setattr(local_module.os, "cpu_count", lambda: 2)
    trials: list[tuple[float, float, float, int]] = []
    real = local_module.run_trial

    def recorded(data, trial, proposal, **kwargs):
        import threading

        started = kwargs["clock"]()
        try:
            return real(data, trial, proposal, **kwargs)
        finally:
            trials.append((started, proposal.seconds, kwargs["clock"](), threading.get_ident()))

    monkeypatch.setattr(local_module, "run_trial", recorded)
    clock = ThreadSafeClock(tick=0.05)
    budget = Budget(20, clock=clock)
    data = cross_validated(_data(300), seed=0)
    result = search(data, metric="roc_auc", families=["lightgbm"], budget=budget)
    assert result.execution["parallel_trials"] == 2
    assert result.stopped_by == "budget" and len(trials) >= 4
    assert len({ident for *_, ident in trials}) == 2  # both workers fit trials
    # Every trial was given a slot ending before the deadline, and the search ended with
    # time left for the refit and evaluation. (The fake clock is shared: each thread's
    # readings age the other's trial too, so a trial's own end is not compared here.)
    for started, seconds, _, _ in trials:
        assert started + seconds <= budget.deadline
    assert budget.left() > 0
    overlapping = sum(
        a[0] < b[2] and b[0] < a[2] for i, a in enumerate(trials) for b in trials[i + 1 :]
    )
    assert overlapping > 0


def test_large_data_runs_one_trial_at_a_time() -> None:
    big = SearchData(
        "binary", 2, np.zeros((500_000, 4)), np.zeros(500_000), np.zeros((10, 4)), np.ones(10), []
    )
    assert local_module.parallel_trials(big, 2) == 1
    assert local_module.parallel_trials(_data(300), 1) == 1


def test_the_bag_of_fold_models_round_trips_through_a_bundle(
    project, ingest, frame_of, monkeypatch
) -> None:
    # The bag stays only while it predicts a row within the measured latency budget; on a
    # loaded machine five fold models can miss it and be refit. Give it room: this test is
    # about the bag's round trip, not the latency rule (tests of _members cover that).
    monkeypatch.setattr("shipyard.train._automl_fit.members_ms", lambda _encoder: 100.0)
    ref = ingest(frame_of(400, "binary"))
    result = train(
        project,
        ref,
        "label",
        model_name="bagged",
        time_budget=30,
        families=["lightgbm"],
        max_trials=2,
    )
    assert result.search["validation"].startswith("5-fold")
    # small data: one trial per core (threads left to the search)
    assert result.search["parallel_trials"] == (os.cpu_count() or 1)
    assert "fold_mean" in result.leaderboard[0] and "fold_std" in result.leaderboard[0]
    loaded = load_model(project, result.model_version.ref)
    model = loaded.model
    assert isinstance(model.family, EnsembleFamily)
    assert isinstance(model.estimator, EnsembleEstimator)
    assert len(model.estimator.members) == 5
    row = {"x1": 0.3, "x2": -1.0, "x3": 0.0, "x4": 0.5, "region": "north", "roaming": True}
    first = model.predict_records([row]).scores
    assert 0 < float(first[0]) < 1
    started = time.perf_counter()
    for _ in range(50):
        model.predict_records([row])
    assert (time.perf_counter() - started) / 50 < 0.05  # generous: the machine is shared
    explained = model.explain_records([row])[0]
    assert explained["exact"] and explained["space"] == "probability"
    # exact: the contributions add up to the bag's own (uncalibrated) probability
    matrix = model.encoder.encode_records([row]).matrix
    bag_score = model.family.predict(model.estimator, matrix, threads=1)
    assert explained["raw_score"] == pytest.approx(float(bag_score[0]), abs=1e-6)


def test_above_the_threshold_the_holdout_stays(project, ingest, frame_of, monkeypatch) -> None:
    monkeypatch.setattr(cv_module, "CV_MAX_ROWS", 100)
    ref = ingest(frame_of(400, "binary"))
    result = train(project, ref, "label", time_budget=20, families=["linear"], max_trials=2)
    assert result.search["validation"] == "holdout"
    assert "fold_mean" not in result.leaderboard[0]
