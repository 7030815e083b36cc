"""From encoded parts to a finished TabularModel: one fit, and the calibration, decision
threshold, evaluation and diagnostics that a fit and an AutoML search share."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from shipyard.automl import (
    SearchData,
)
from shipyard.errors import InvalidInput
from shipyard.evaluation import evaluate
from shipyard.jsonable import strict_json
from shipyard.model import (
    Calibrator,
    EnsembleEstimator,
    EnsembleFamily,
    Family,
    FeatureEncoder,
    FitResult,
    Problem,
    TabularModel,
    fit_calibrator,
    smearing_calibrator,
)
from shipyard.train._diagnostics import baseline_loss, diagnose, loss
from shipyard.train._threshold import choose_threshold

__all__ = [
    "Fitted",
    "Options",
    "Parts",
    "auto_threads",
    "combine",
    "finish",
    "fit_single",
    "model_diagnostics",
    "row_latency_ms",
]

_DIAGNOSE_ROWS = 20_000
_SMALL_CELLS = 2_000_000  # below this many matrix cells, one thread beats OpenMP's overhead
_LATENCY_ROWS = 60  # single-row predictions timed (the first 10 warm up)
_LATENCY_SECONDS = 1.0  # ... or fewer, when the model is slow


def auto_threads(threads: int, x: np.ndarray) -> int:
    """``threads`` when given; else 1 for a small matrix, 0 (all cores) for a large one."""
    if threads:
        return threads
    return 1 if x.size < _SMALL_CELLS else 0


@dataclass
class Parts:
    """Encoded matrices and targets of the train / valid / test parts."""

    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    categorical: list[int]
    feature_names: list[str]

    def search_data(self, problem: Problem) -> SearchData:
        """The train and validation parts, as the families fit them."""
        return SearchData(
            problem.type,
            len(problem.classes),
            self.x["train"],
            self.y["train"],
            self.x["valid"],
            self.y["valid"],
            self.categorical,
            score_rows=len(self.y["test"]) + min(len(self.y["train"]), _DIAGNOSE_ROWS),
        )


@dataclass
class Options:
    """How the model turns scores into decisions."""

    cost_fp: float | None = None
    cost_fn: float | None = None
    alert_rate: float | None = None
    calibration: str = "auto"
    seed: int = 0
    threads: int = 0
    target: str = "none"  # regression searches: y, log(1 + y), or measured (auto)


@dataclass
class Fitted:
    """The finished model and everything the job records about how it was made."""

    model: TabularModel
    metrics: dict[str, dict[str, float]]
    curves: dict[str, list[float]]
    diagnostics: list[dict[str, Any]]
    leaderboard: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    test_scores: np.ndarray = field(default_factory=lambda: np.empty(0))


def fit_single(
    encoder: FeatureEncoder,
    family: Family,
    problem: Problem,
    parts: Parts,
    params: dict[str, Any] | None,
    options: Options,
) -> Fitted:
    """One fit of one family on train, early-stopped on validation."""
    fit = parts.search_data(problem).fit(family, params, options.seed, threads=options.threads)
    valid_raw = family.predict(fit.estimator, parts.x["valid"], threads=options.threads)
    fitted = finish(
        encoder, problem, parts, options, family, fit.estimator, family, fit.estimator, valid_raw
    )
    fitted.diagnostics = model_diagnostics(
        problem, parts, family, fit, fit.estimator, valid_raw, True
    )
    fitted.metrics["fit"] = {
        "seconds": fit.fit_seconds,
        "best_iteration": float(fit.best_iteration or 0),
    }
    fitted.curves = fit.curves
    return fitted


def combine(members: list[tuple[Family, Any, float]], problem: Problem) -> tuple[Family, Any]:
    if len(members) == 1:
        return members[0][0], members[0][1]
    return EnsembleFamily(), EnsembleEstimator(members, problem.type)


def finish(
    encoder: FeatureEncoder,
    problem: Problem,
    parts: Parts,
    options: Options,
    family_before: Family,
    estimator_before: Any,
    family_after: Family,
    estimator_after: Any,
    valid_raw: np.ndarray,
    *,
    log_target: bool = False,
) -> Fitted:
    """Calibrate and choose the threshold on validation scores of the model fit on train;
    evaluate validation with it and test with the final (possibly refit) model.

    With ``log_target`` the model predicts log(1 + y) (``parts`` hold y): its calibrator
    maps that back to y, fit on validation."""
    y_valid = parts.y["valid"]
    calibrator: Calibrator | None = None
    threshold = 0.5
    decision: dict[str, Any] = {"rule": "f1"}
    valid_scores = valid_raw
    calibration_info: dict[str, Any] = {"method": "none"}
    if problem.type == "binary":
        # A two-parameter fit: BLAS threads only spin, and on a busy machine that made
        # calibration several times slower (3.1 s instead of 0.8 s on 5,000 rows).
        with threadpool_limits(1):
            calibrator, calibration_info = fit_calibrator(
                y_valid, valid_raw, method=options.calibration, seed=options.seed
            )
        if calibrator is not None:
            valid_scores = calibrator.apply(valid_raw)
        threshold, decision = choose_threshold(
            y_valid,
            valid_scores,
            cost_fp=options.cost_fp,
            cost_fn=options.cost_fn,
            alert_rate=options.alert_rate,
        )
        decision["calibration"] = calibration_info
    elif log_target:
        calibrator = smearing_calibrator(y_valid, valid_raw)
        valid_scores = calibrator.apply(valid_raw)
        decision["target"] = {"transform": "log1p", "smearing": calibrator.slope}
    model = TabularModel(
        encoder, family_after, estimator_after, problem, threshold, calibrator, decision
    )
    test_scores = model.predict_scores(parts.x["test"], threads=options.threads)
    metrics = {
        "valid": evaluate(problem.type, y_valid, valid_scores, threshold=threshold),
        "test": evaluate(problem.type, parts.y["test"], test_scores, threshold=threshold),
    }
    return Fitted(model, metrics, {}, [], test_scores=test_scores)


def model_diagnostics(
    problem: Problem,
    parts: Parts,
    family: Family,
    fit: FitResult,
    estimator: Any,
    valid_raw: np.ndarray | None,
    with_train: bool,
) -> list[dict[str, Any]]:
    n_classes = len(problem.classes)
    y_train, y_valid = parts.y["train"], parts.y["valid"]
    train_loss = None
    if with_train:
        # A sample is enough to compare with validation, and keeps big data within budget.
        rows = slice(None) if len(y_train) <= _DIAGNOSE_ROWS else slice(0, _DIAGNOSE_ROWS)
        scores = family.predict(estimator, parts.x["train"][rows])
        train_loss = loss(problem.type, y_train[rows], scores)
    valid_loss = loss(problem.type, y_valid, valid_raw) if valid_raw is not None else None
    valid_auc = _auc(problem, y_valid, valid_raw) if valid_raw is not None else None
    width = len(parts.feature_names)
    member = family if not isinstance(family, EnsembleFamily) else None
    return diagnose(
        problem=problem.type,
        y_train=y_train,
        curves=fit.curves,
        train_loss=train_loss,
        valid_loss=valid_loss,
        valid_auc=valid_auc,
        baseline=baseline_loss(problem.type, y_train, y_valid, n_classes),
        importance=family.importance(estimator, width),
        feature_names=parts.feature_names,
        tree_stats=member.tree_stats(estimator, fit.params) if member else None,
        params=fit.params,
    )


def _auc(problem: Problem, y: np.ndarray, scores: np.ndarray) -> float | None:
    """Validation ROC AUC (one-vs-rest for multiclass), None when it is undefined."""
    from sklearn.metrics import roc_auc_score

    if problem.type == "regression":
        return None
    try:
        if problem.type == "binary":
            return float(roc_auc_score(y, scores))
        return float(roc_auc_score(y, scores, multi_class="ovr", labels=np.arange(scores.shape[1])))
    except ValueError:  # a class missing from the validation part
        return None


def row_latency_ms(model: TabularModel, rows: pd.DataFrame) -> float | None:
    """Milliseconds the finished model takes to score one JSON row as the server hands it
    (encoding, calibration and decision included, one thread): the median over up to 50
    held-out rows after a warm-up. The search's figures are its members' alone, each timed
    on its own; a model of several predicts slower than their sum (measured on caravan: 0.71
    ms for three members of 0.12-0.13 ms). None without rows, or when a row cannot be
    scored as JSON."""
    names = [spec.name for spec in model.encoder.columns_ if spec.name in rows.columns]
    records = strict_json(rows[names].head(_LATENCY_ROWS).to_dict("records"))
    times: list[float] = []
    ends = time.perf_counter() + _LATENCY_SECONDS
    try:
        for record in records:
            started = time.perf_counter()
            model.predict_records([record])
            times.append(time.perf_counter() - started)
            if started > ends and len(times) >= 4:
                break
    except InvalidInput:
        return None
    timed = times[min(10, len(times) // 2) :]  # after the warm-up
    return 1000 * float(np.median(timed)) if timed else None
