"""Which metric judges a search, and how a validation score is computed from scores."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

from shipyard.errors import InvalidInput, did_you_mean
from shipyard.evaluation import HIGHER_IS_BETTER
from shipyard.types import ProblemType

__all__ = ["METRICS", "RARE_POSITIVE_SHARE", "choose_metric", "score"]

METRICS: dict[ProblemType, tuple[str, ...]] = {
    "binary": ("roc_auc", "pr_auc", "log_loss", "brier"),
    "multiclass": ("log_loss", "accuracy", "macro_f1"),
    "regression": ("rmse", "mae", "r2"),
}
"""The metrics a search may optimize, per problem type (threshold-free for binary)."""

RARE_POSITIVE_SHARE = 0.05
"""Below this share of positives, the default binary metric is pr_auc instead of roc_auc."""


def choose_metric(problem: ProblemType, y: np.ndarray, metric: str | None) -> str:
    """The metric to optimize: ``metric`` when it fits ``problem``, else the default.

    Defaults: roc_auc for binary (pr_auc when positives are under 5%), log_loss for
    multiclass, rmse for regression.

    Raises:
        InvalidInput: ``metric`` is unknown or does not fit the problem type.
    """
    if metric is None:
        if problem == "binary":
            return "pr_auc" if float(np.mean(y)) < RARE_POSITIVE_SHARE else "roc_auc"
        return METRICS[problem][0]
    allowed = METRICS[problem]
    if metric in allowed:
        return metric
    fits = [p for p, names in METRICS.items() if metric in names]
    if fits:
        raise InvalidInput(
            f"The metric '{metric}' is for {' or '.join(fits)} problems, but this target is "
            f"a {problem} problem. Use one of: {', '.join(allowed)}."
        )
    known = sorted({m for names in METRICS.values() for m in names})
    raise InvalidInput(
        f"Unknown metric '{metric}'.{did_you_mean(metric, known)} "
        f"For a {problem} problem use one of: {', '.join(allowed)}."
    )


def higher_is_better(metric: str) -> bool:
    return HIGHER_IS_BETTER[metric]


def score(metric: str, problem: ProblemType, y: np.ndarray, scores: np.ndarray) -> float:
    """The value of ``metric`` for scores against encoded targets."""
    if problem == "regression":
        if metric == "rmse":
            return float(np.sqrt(np.mean((scores - y) ** 2)))
        if metric == "mae":
            return float(np.mean(np.abs(scores - y)))
        return float(skm.r2_score(y, scores))
    if problem == "multiclass":
        if metric == "log_loss":
            picked = scores[np.arange(len(y)), y.astype(int)]
            return float(-np.mean(np.log(np.clip(picked, 1e-15, 1))))
        predicted = np.argmax(scores, axis=1)
        if metric == "accuracy":
            return float(np.mean(predicted == y))
        return float(skm.f1_score(y, predicted, average="macro", zero_division=0))
    if metric == "roc_auc":
        return _roc_auc(y, scores)
    if metric == "pr_auc":
        return _average_precision(y, scores)
    if metric == "log_loss":
        p = np.clip(scores, 1e-15, 1 - 1e-15)
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))
    return float(np.mean((scores - y) ** 2))


# Ensemble selection scores thousands of blends: these NumPy versions match scikit-learn's
# roc_auc_score and average_precision_score without their per-call validation overhead.


def _roc_auc(y: np.ndarray, scores: np.ndarray) -> float:
    from scipy.stats import rankdata

    positives = y == 1
    n_pos = int(positives.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _average_precision(y: np.ndarray, scores: np.ndarray) -> float:
    order = np.argsort(-scores, kind="mergesort")
    ranked, truth = scores[order], y[order]
    cuts = np.r_[np.flatnonzero(np.diff(ranked)), len(ranked) - 1]
    true_pos = np.cumsum(truth)[cuts]
    if true_pos[-1] == 0:
        return float("nan")
    precision = true_pos / (cuts + 1)
    recall = true_pos / true_pos[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
