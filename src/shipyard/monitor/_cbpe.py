"""Confidence-based performance estimation (CBPE, as NannyML does it) for a calibrated binary
model: the metrics a window will show once its labels arrive, estimated from its scores alone.

A calibrated score ``p`` is the chance the row is positive, so each row counts as ``p`` of a
positive and ``1 - p`` of a negative: the expected confusion matrix at the threshold, and the
expected ROC AUC (every positive weight against every negative weight scored lower), follow
in one sort. Valid while calibration holds (covariate shift, not a new concept).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["cbpe_estimate"]


def cbpe_estimate(scores: np.ndarray, threshold: float) -> dict[str, Any]:
    """Estimated ``roc_auc``, ``accuracy``, ``precision``, ``recall``, ``f1``,
    ``positive_rate`` and the expected confusion matrix, each with a standard error where
    one is known (AUC: Hanley and McNeil's, on the expected class sizes; accuracy: a
    binomial's)."""
    p = np.clip(np.asarray(scores, dtype=np.float64), 0.0, 1.0)
    p = p[np.isfinite(p)]
    n = len(p)
    if n == 0:
        return {"rows": 0}
    flagged = p >= threshold
    tp = float(p[flagged].sum())
    fp = float((1 - p[flagged]).sum())
    fn = float(p[~flagged].sum())
    tn = float((1 - p[~flagged]).sum())
    pos, neg = tp + fn, fp + tn
    accuracy = (tp + tn) / n
    auc = _expected_auc(p)
    out: dict[str, Any] = {
        "rows": n,
        "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
        "positive_rate": pos / n,
        "accuracy": accuracy,
        "accuracy_se": math.sqrt(max(accuracy * (1 - accuracy), 1e-12) / n),
        "precision": tp / (tp + fp) if tp + fp > 0 else None,
        "recall": tp / pos if pos > 0 else None,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn > 0 else None,
        "roc_auc": auc,
        "roc_auc_se": _hanley_mcneil(auc, pos, neg) if auc is not None else None,
    }
    return out


def _expected_auc(p: np.ndarray) -> float | None:
    """Σ_i Σ_j p_i (1 - p_j) [s_i > s_j] (+ half the ties) / (Σ p · Σ (1 - p))."""
    order = np.argsort(p, kind="stable")
    s = p[order]
    w_pos, w_neg = s, 1 - s
    total_pos, total_neg = w_pos.sum(), w_neg.sum()
    if total_pos <= 0 or total_neg <= 0:
        return None
    starts = np.r_[0, np.flatnonzero(np.diff(s)) + 1]  # groups of tied scores, ascending
    g_pos = np.add.reduceat(w_pos, starts)
    g_neg = np.add.reduceat(w_neg, starts)
    below = np.cumsum(g_neg) - g_neg  # negative weight scored strictly lower
    wins = np.sum(g_pos * (below + 0.5 * g_neg))
    return float(wins / (total_pos * total_neg))


def _hanley_mcneil(auc: float, pos: float, neg: float) -> float | None:
    if pos < 1 or neg < 1:
        return None
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    var = (auc * (1 - auc) + (pos - 1) * (q1 - auc**2) + (neg - 1) * (q2 - auc**2)) / (pos * neg)
    return math.sqrt(max(var, 0.0))
