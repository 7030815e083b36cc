from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn import metrics as skm

from shipyard.model import fit_calibrator
from shipyard.registry import load_model
from shipyard.train import choose_threshold, train


def _flagged_cost(y, scores, t, cost_fp, cost_fn) -> float:
    flag = scores >= t
    return cost_fp * np.sum(flag & (y == 0)) + cost_fn * np.sum(~flag & (y == 1))


@pytest.mark.parametrize(("cost_fp", "cost_fn"), [(1.0, 1.0), (1.0, 10.0), (5.0, 1.0)])
def test_cost_threshold_matches_brute_force(rng, cost_fp, cost_fn) -> None:
    y = (rng.random(120) < 0.3).astype(float)
    scores = np.round(np.clip(0.3 * y + rng.random(120) * 0.7, 0, 1), 2)  # with ties
    threshold, info = choose_threshold(y, scores, cost_fp=cost_fp, cost_fn=cost_fn)
    candidates = [*np.unique(scores), np.inf]
    best = min(_flagged_cost(y, scores, t, cost_fp, cost_fn) for t in candidates)
    assert _flagged_cost(y, scores, threshold, cost_fp, cost_fn) == pytest.approx(best)
    assert info["cost"] == pytest.approx(best)


@pytest.mark.parametrize("rate", [0.01, 0.05, 0.2, 0.5])
def test_alert_rate_threshold_flags_the_most_rows_within_the_rate(rng, rate) -> None:
    scores = np.round(rng.random(200), 2)
    threshold, info = choose_threshold(np.zeros(200), scores, alert_rate=rate)
    flagged = np.mean(scores >= threshold)
    allowed = [np.mean(scores >= t) for t in np.unique(scores) if np.mean(scores >= t) <= rate]
    assert flagged <= rate
    assert flagged == pytest.approx(max(allowed, default=0.0))
    assert info["rule"] == "alert_rate"


def test_f1_threshold_matches_brute_force(rng) -> None:
    y = (rng.random(150) < 0.4).astype(float)
    scores = np.clip(0.35 * y + rng.random(150) * 0.65, 0, 1)
    threshold, _ = choose_threshold(y, scores)
    best = max(skm.f1_score(y, scores >= t) for t in np.unique(scores))
    assert skm.f1_score(y, scores >= threshold) == pytest.approx(best)


def test_calibration_is_kept_only_when_it_lowers_log_loss(rng) -> None:
    truth = rng.random(2000)
    y = (rng.random(2000) < truth).astype(float)
    overconfident = truth**3 / (truth**3 + (1 - truth) ** 3)
    calibrator, info = fit_calibrator(y, overconfident)
    assert calibrator is not None and info["method"] in ("isotonic", "sigmoid")
    assert info["cv_log_loss"][info["method"]] < info["cv_log_loss"]["none"]
    fixed = calibrator.apply(overconfident)
    assert skm.log_loss(y, fixed) < skm.log_loss(y, overconfident)
    # a monotone map keeps the ranking
    assert skm.roc_auc_score(y, fixed) == pytest.approx(skm.roc_auc_score(y, overconfident), 0.01)
    calibrator, info = fit_calibrator(y, truth)
    assert calibrator is None or info["cv_log_loss"][info["method"]] < info["cv_log_loss"]["none"]


def test_isotonic_calibration_ranks_rows_exactly_as_the_model_does(rng) -> None:
    truth = rng.random(3000)
    y = (rng.random(3000) < truth).astype(float)
    raw = truth**3 / (truth**3 + (1 - truth) ** 3)  # overconfident: isotonic corrects it
    calibrator, _ = fit_calibrator(y[:2000], raw[:2000], method="isotonic")
    assert calibrator is not None and calibrator.method == "isotonic"
    fresh = np.r_[raw[2000:], 0.0, 1e-9, 1 - 1e-9, 1.0]  # past the knots of the fit rows too
    fixed = calibrator.apply(fresh)
    # plain isotonic regression ties whole ranges of scores; no two rows tie here
    assert len(np.unique(fixed)) == len(np.unique(fresh))
    assert np.array_equal(np.argsort(fixed, kind="stable"), np.argsort(fresh, kind="stable"))
    assert skm.roc_auc_score(y[2000:], fixed[:1000]) == skm.roc_auc_score(y[2000:], raw[2000:])
    assert fixed.min() >= 0.0 and fixed.max() <= 1.0
    # and it still calibrates: log loss on rows it was not fit on drops
    assert skm.log_loss(y[2000:], fixed[:1000]) < skm.log_loss(y[2000:], raw[2000:])


def test_isotonic_is_not_tried_on_a_small_perfectly_separated_validation_set() -> None:
    y = np.r_[np.zeros(40), np.ones(45)]
    scores = np.r_[np.linspace(0.05, 0.45, 40), np.linspace(0.55, 0.97, 45)]
    calibrator, info = fit_calibrator(y, scores)
    assert "isotonic" not in info["cv_log_loss"]
    if calibrator is not None:
        assert calibrator.method == "sigmoid"


def test_cost_threshold_and_calibration_travel_with_the_model(project, ingest, frame_of):
    ref = ingest(frame_of(400, "binary"))
    result = train(project, ref, "label", cost_fp=1.0, cost_fn=8.0, calibration="sigmoid")
    model = load_model(project, result.model_version.ref).model
    assert model.decision["rule"] == "cost" and model.calibrator.method == "sigmoid"
    assert model.signature["calibration"] == "sigmoid"
    assert result.metrics["valid"]["threshold"] == model.threshold
    restored = pickle.loads(pickle.dumps(model))
    row = frame_of(1, "binary").drop(columns=["label"]).to_dict("records")
    assert restored.predict_records(row).scores == pytest.approx(model.predict_records(row).scores)
    # missing a positive costs 8x a false alarm: the threshold sits low, recall is high
    assert result.metrics["valid"]["recall"] >= result.metrics["valid"]["precision"]
