"""Evaluation metrics per problem type, and the choice of a binary decision threshold."""

from __future__ import annotations

import numpy as np

from shipyard.types import ProblemType

__all__ = ["HIGHER_IS_BETTER", "best_f1_threshold", "evaluate"]

HIGHER_IS_BETTER = {
    "roc_auc": True,
    "pr_auc": True,
    "log_loss": False,
    "f1": True,
    "precision": True,
    "recall": True,
    "accuracy": True,
    "brier": False,
    "macro_f1": True,
    "rmse": False,
    "mae": False,
    "r2": True,
}


def best_f1_threshold(y: np.ndarray, scores: np.ndarray) -> float:
    """The score threshold that maximises F1 (every distinct score is a candidate)."""
    from sklearn import metrics as skm

    precision, recall, thresholds = skm.precision_recall_curve(y, scores)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0)
    if len(thresholds) == 0:
        return 0.5
    return float(thresholds[int(np.argmax(f1[:-1]))])


def evaluate(
    problem: ProblemType, y: np.ndarray, scores: np.ndarray, *, threshold: float = 0.5
) -> dict[str, float]:
    """The metrics of ``scores`` against encoded targets ``y`` (see Problem.encode)."""
    # Imported here: scikit-learn takes seconds to import, and a model that is only being
    # loaded to score must not pay for it.
    from sklearn import metrics as skm

    if problem == "regression":
        err = scores - y
        return {
            "rmse": float(np.sqrt(np.mean(err**2))),
            "mae": float(np.mean(np.abs(err))),
            "r2": float(skm.r2_score(y, scores)),
            "rows": float(len(y)),
        }
    if problem == "multiclass":
        labels = np.arange(scores.shape[1])
        predicted = np.argmax(scores, axis=1)
        return {
            "log_loss": float(skm.log_loss(y, _probabilities(scores), labels=labels)),
            "accuracy": float(np.mean(predicted == y)),
            "macro_f1": float(skm.f1_score(y, predicted, average="macro", zero_division=0)),
            "rows": float(len(y)),
        }
    decisions = scores >= threshold
    out = {
        "log_loss": float(skm.log_loss(y, np.clip(scores, 1e-15, 1 - 1e-15), labels=[0, 1])),
        "brier": float(np.mean((scores - y) ** 2)),
        "precision": float(skm.precision_score(y, decisions, zero_division=0)),
        "recall": float(skm.recall_score(y, decisions, zero_division=0)),
        "f1": float(skm.f1_score(y, decisions, zero_division=0)),
        "accuracy": float(np.mean(decisions == y)),
        "threshold": float(threshold),
        "positive_rate": float(np.mean(y)),
        "rows": float(len(y)),
    }
    if 0 < y.sum() < len(y):
        out["roc_auc"] = float(skm.roc_auc_score(y, scores))
        out["pr_auc"] = float(skm.average_precision_score(y, scores))
    return out


def _probabilities(scores: np.ndarray) -> np.ndarray:
    """Class probabilities in float64, each row summing to 1 again: float32 scores (XGBoost's,
    or a blend of them) sum to 0.99999994, which scikit-learn's log_loss warns about."""
    p = np.clip(np.asarray(scores, dtype=np.float64), 1e-15, 1)
    return np.asarray(p / p.sum(axis=1, keepdims=True))
