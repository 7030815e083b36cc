"""Training diagnostics: what a fitted model's curves, losses and importances give away.

Each finding is ``{check, severity, message}``; the message says what was seen and what to
try. Severities: ``warning`` (likely a problem with the model or the data) and ``info``
(worth a look).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn import metrics as skm

from shipyard.types import ProblemType

__all__ = ["CHECKS", "baseline_loss", "diagnose", "loss"]

CHECKS = (
    "overfitting",
    "train_valid_gap",
    "not_learning",
    "class_imbalance",
    "feature_dominance",
    "trees_at_max_depth",
)

_RISE = 0.10  # valid loss this far above its minimum, while train loss falls: overfitting
_GAP_RATIO = 3.0
_GAP_ABS = {"binary": 0.15, "multiclass": 0.25}
_NO_GAIN = 0.98  # valid loss at least this share of the constant model's: not learning
_NO_SKILL_AUC = 0.55
_RARE = 0.05
_DOMINANT = 0.8
_DOMINANT_RATIO = 8.0
_AT_LIMIT = 0.9


def loss(problem: ProblemType, y: np.ndarray, scores: np.ndarray) -> float:
    """Log loss for classes, RMSE for numbers."""
    if problem == "regression":
        return float(np.sqrt(np.mean((scores - y) ** 2)))
    if problem == "binary":
        return float(skm.log_loss(y, np.clip(scores, 1e-15, 1 - 1e-15), labels=[0, 1]))
    labels = np.arange(scores.shape[1])
    return float(skm.log_loss(y, np.clip(scores, 1e-15, 1), labels=labels))


def baseline_loss(
    problem: ProblemType, y_train: np.ndarray, y_valid: np.ndarray, n_classes: int
) -> float:
    """The validation loss of a constant model: the training class shares, or the mean."""
    if problem == "regression":
        return loss(problem, y_valid, np.full(len(y_valid), float(np.mean(y_train))))
    if problem == "binary":
        return loss(problem, y_valid, np.full(len(y_valid), float(np.mean(y_train))))
    shares = np.bincount(y_train.astype(int), minlength=n_classes) / len(y_train)
    return loss(problem, y_valid, np.tile(shares, (len(y_valid), 1)))


def diagnose(
    *,
    problem: ProblemType,
    y_train: np.ndarray,
    curves: dict[str, list[float]] | None = None,
    train_loss: float | None = None,
    valid_loss: float | None = None,
    valid_auc: float | None = None,
    baseline: float | None = None,
    importance: np.ndarray | None = None,
    feature_names: Sequence[str] = (),
    tree_stats: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Findings about one fitted model; an empty list when nothing looks wrong."""
    curves = curves or {}
    train_curve = curves.get("train_loss") or []
    valid_curve = curves.get("valid_loss") or []
    found = [
        _overfitting(train_curve, valid_curve),
        _gap(problem, train_loss, valid_loss),
        _not_learning(valid_auc, valid_loss, baseline, train_curve),
        _imbalance(problem, y_train, params or {}),
        _dominance(importance, feature_names),
        _at_limit(tree_stats),
    ]
    return [f for f in found if f is not None]


Finding = dict[str, Any] | None


def _overfitting(train_curve: list[float], valid_curve: list[float]) -> Finding:
    if len(train_curve) < 10 or len(valid_curve) != len(train_curve):
        return None
    best = int(np.argmin(valid_curve))
    low = valid_curve[best]
    rise = (valid_curve[-1] - low) / max(abs(low), 1e-12)
    if rise <= _RISE or train_curve[-1] >= train_curve[best]:
        return None
    return _finding(
        "overfitting",
        "warning",
        f"Validation loss rose {rise:.0%} after its minimum at iteration "
        f"{best + 1} ({low:.4g} -> {valid_curve[-1]:.4g}) while training loss "
        f"kept falling ({train_curve[best]:.4g} -> {train_curve[-1]:.4g}). "
        "Keep early stopping on, and lower the learning rate or the tree size "
        "(num_leaves / max_depth), or raise min_data_in_leaf and L2.",
    )


def _gap(problem: ProblemType, train_loss: float | None, valid_loss: float | None) -> Finding:
    if train_loss is None or valid_loss is None:
        return None
    ratio = valid_loss / max(train_loss, 1e-12)
    if problem in _GAP_ABS:
        if valid_loss - train_loss <= _GAP_ABS[problem] or ratio <= _GAP_RATIO:
            return None
        return _finding(
            "train_valid_gap",
            "warning",
            f"Validation log loss {valid_loss:.4g} is {ratio:.1f}x the training log loss "
            f"{train_loss:.4g}: the model memorizes the training "
            "rows. Regularize more (smaller trees, more rows per leaf, L2) or add data.",
        )
    if ratio <= _GAP_RATIO:
        return None
    return _finding(
        "train_valid_gap",
        "warning",
        f"Validation RMSE {valid_loss:.4g} is more than {_GAP_RATIO:g}x the training "
        f"RMSE {train_loss:.4g}: the model memorizes the training rows. "
        "Regularize more or add data.",
    )


def _not_learning(
    valid_auc: float | None,
    valid_loss: float | None,
    baseline: float | None,
    train_curve: list[float],
) -> Finding:
    if valid_auc is not None:
        # Ranking skill, not log loss: class weights inflate the log loss of a good model.
        if valid_auc >= _NO_SKILL_AUC:
            return None
        return _finding(
            "not_learning",
            "warning",
            f"Validation ROC AUC is {valid_auc:.3f}, barely above a coin flip (0.5): "
            "the features carry little signal about the target as encoded. Check the "
            "target, join more informative features, or raise the learning rate / rounds.",
        )
    if valid_loss is not None and baseline is not None and baseline > 0:
        if valid_loss < _NO_GAIN * baseline:
            return None
        return _finding(
            "not_learning",
            "warning",
            f"Validation loss {valid_loss:.4g} is no better than a constant model's "
            f"{baseline:.4g} (predicting the class shares or the mean): the features "
            "carry little signal about the target as encoded. Check the target, join "
            "more informative features, or raise the learning rate / rounds.",
        )
    if len(train_curve) < 5 or train_curve[-1] < 0.99 * train_curve[0]:
        return None
    return _finding(
        "not_learning",
        "warning",
        f"Training loss barely moved ({train_curve[0]:.4g} -> {train_curve[-1]:.4g} "
        f"over {len(train_curve)} iterations). Raise the learning rate or check that "
        "the features relate to the target.",
    )


def _imbalance(problem: ProblemType, y_train: np.ndarray, params: dict[str, Any]) -> Finding:
    if problem == "regression" or not len(y_train):
        return None
    counts = np.bincount(y_train.astype(int))
    counts = counts[counts > 0]
    share = float(counts.min() / counts.sum())
    if share >= _RARE or params.get("balanced"):
        return None
    return _finding(
        "class_imbalance",
        "warning",
        f"The rarest class is {share:.1%} of the training rows and the model was "
        "fit without class weights. Search with class weighting (balanced=True), "
        "select on pr_auc, and choose the threshold by costs or alert rate.",
    )


def _dominance(importance: np.ndarray | None, feature_names: Sequence[str]) -> Finding:
    if importance is None or len(importance) < 2 or float(np.sum(importance)) <= 0:
        return None
    shares = np.asarray(importance, dtype=np.float64) / float(np.sum(importance))
    order = np.argsort(-shares)
    top, second = shares[order[0]], shares[order[1]]
    if top < _DOMINANT or top < _DOMINANT_RATIO * max(second, 1e-12):
        return None
    name = feature_names[order[0]] if len(feature_names) > order[0] else f"#{order[0]}"
    return _finding(
        "feature_dominance",
        "warning",
        f"Feature '{name}' carries {top:.0%} of the importance (the next one "
        f"{second:.0%}). A single feature this strong is often a leak: a copy of "
        "the target or a value known only after the outcome. Check how it is "
        "produced, and exclude it if it would not be available at prediction time.",
    )


def _at_limit(tree_stats: dict[str, Any] | None) -> Finding:
    if not tree_stats or tree_stats.get("share_at_limit", 0.0) < _AT_LIMIT:
        return None
    return _finding(
        "trees_at_max_depth",
        "info",
        f"{tree_stats['share_at_limit']:.0%} of the trees reach their "
        f"{tree_stats['limit']}={tree_stats['value']}: they may be too small to fit the "
        f"interactions in the data. Try a larger {tree_stats['limit']}.",
    )


def _finding(check: str, severity: str, message: str) -> dict[str, Any]:
    return {"check": check, "severity": severity, "message": message}
