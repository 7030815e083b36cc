"""The binary part of the evaluation report: curves, threshold, top-k, calibration, scores.

ROC and PR curves, reliability bins (with Brier and ECE), the confusion matrix at the chosen
threshold and what it means in alerts, precision / recall / lift at the top k% of scores, and
the score distribution per class. Everything is vectorized NumPy over one sort of the scores.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from shipyard.evaluation._bootstrap import binary_stats, bootstrap
from shipyard.model import Problem

__all__ = ["HISTOGRAM_BINS", "TOP_K_SHARES", "binary_report"]

TOP_K_SHARES = (0.001, 0.005, 0.01, 0.02, 0.05, 0.10)
"""Shares of the highest-scored rows the top-k table reports (what a review team reads)."""
HISTOGRAM_BINS = 40
"""Bins of the score and residual histograms."""

_CURVE_POINTS = 300
_CALIBRATION_BINS = 10
_BOOTSTRAP_MINORITY = 400


def binary_report(
    problem: Problem,
    y: np.ndarray,
    scores: np.ndarray,
    threshold: float,
    decision: dict[str, Any],
    options: dict[str, int],
    order: np.ndarray,
) -> dict[str, Any]:
    """The binary part of the report; ``order`` sorts the rows by score, high to low."""
    n = len(y)
    positives = int(y.sum())
    rarer = min(positives, n - positives) / max(n, 1)
    if rarer > 0:
        wanted = math.ceil(_BOOTSTRAP_MINORITY / rarer)
        options = options | {
            "max_rows": min(5 * options["max_rows"], max(options["max_rows"], wanted))
        }
    metrics, method = bootstrap(
        lambda rows: (
            binary_stats(y, scores, threshold, order)
            if rows is None
            else binary_stats(y[rows], scores[rows], threshold)
        ),
        n,
        resamples=options["resamples"],
        max_rows=options["max_rows"],
        seed=options["seed"],
    )
    y_sorted, s_sorted = y[order], scores[order]
    budget = decision.get("target_rate") if decision.get("rule") == "alert_rate" else None
    return {
        "positive": problem.positive,
        "classes": list(problem.classes),
        "positives": positives,
        "positive_rate": positives / n if n else None,
        "metrics": metrics,
        "bootstrap": method,
        "threshold": _at_threshold(y, scores, threshold, decision),
        **_curves(y_sorted, s_sorted),
        "calibration": _calibration(y, scores),
        "top_k": _top_k(y_sorted, s_sorted, budget),
        "score_distribution": _score_distribution(y, scores),
    }


def _curves(y_sorted: np.ndarray, s_sorted: np.ndarray) -> dict[str, Any]:
    """ROC and PR curves from scores sorted high to low, one point per distinct score."""
    ends = np.r_[np.flatnonzero(np.diff(s_sorted)), len(s_sorted) - 1]
    tp = np.cumsum(y_sorted)[ends]
    fp = ends + 1 - tp
    pos, neg = (tp[-1], fp[-1]) if len(ends) else (0.0, 0.0)
    if pos == 0 or neg == 0:
        return {"roc": None, "pr": None}
    thresholds = s_sorted[ends]
    fpr = np.r_[0.0, fp / neg]
    tpr = np.r_[0.0, tp / pos]
    roc_keep = _downsample(fpr, tpr)
    precision = tp / (tp + fp)
    recall = tp / pos
    pr_keep = _downsample(np.r_[0.0, recall], np.r_[1.0, precision])
    pr_thresholds = np.r_[np.nan, thresholds]
    return {
        "roc": {
            "fpr": fpr[roc_keep],
            "tpr": tpr[roc_keep],
            "threshold": np.r_[np.nan, thresholds][roc_keep],
            "points": len(fpr),
        },
        "pr": {
            "recall": np.r_[0.0, recall][pr_keep],
            "precision": np.r_[1.0, precision][pr_keep],
            "threshold": pr_thresholds[pr_keep],
            "base_rate": pos / (pos + neg),
            "points": len(recall) + 1,
        },
    }


def _downsample(x: np.ndarray, y: np.ndarray, points: int = _CURVE_POINTS) -> np.ndarray:
    """Indices of about ``points`` points evenly spaced along the curve's length, ends kept."""
    if len(x) <= points:
        return np.arange(len(x))
    length = np.r_[0.0, np.cumsum(np.abs(np.diff(x)) + np.abs(np.diff(y)))]
    marks = np.linspace(0.0, length[-1], points)
    keep = np.searchsorted(length, marks, side="left")
    return np.unique(np.r_[0, np.clip(keep, 0, len(x) - 1), len(x) - 1])


def _at_threshold(
    y: np.ndarray, scores: np.ndarray, threshold: float, decision: dict[str, Any]
) -> dict[str, Any]:
    flagged = scores >= threshold
    positive = y > 0.5
    tp = int(np.sum(flagged & positive))
    fp = int(np.sum(flagged & ~positive))
    fn = int(np.sum(~flagged & positive))
    tn = len(y) - tp - fp - fn
    alerts = tp + fp
    n = max(len(y), 1)
    out: dict[str, Any] = {
        "value": threshold,
        "decision": decision,
        "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
        "alerts": alerts,
        "alert_rate": alerts / n,
        "precision": tp / alerts if alerts else None,
        "recall": tp / (tp + fn) if tp + fn else None,
        "false_positive_rate": fp / (fp + tn) if fp + tn else None,
        "rows_per_alert": n / alerts if alerts else None,
        "false_alarms_per_hit": fp / tp if tp else None,
    }
    if decision.get("rule") == "cost":
        cost = float(decision["cost_fp"]) * fp + float(decision["cost_fn"]) * fn
        out["cost"] = cost
        out["cost_per_row"] = cost / n
    return out


def _top_k(y_sorted: np.ndarray, s_sorted: np.ndarray, budget: float | None) -> list[Any]:
    """Precision, recall and lift of the k highest-scored rows (ties broken by row order)."""
    n = len(y_sorted)
    positives = float(y_sorted.sum())
    if n == 0 or positives == 0:
        return []
    shares = sorted({*TOP_K_SHARES, *((budget,) if budget else ())})
    hits = np.cumsum(y_sorted)
    base_rate = positives / n
    out = []
    for share in shares:
        k = min(n, max(1, math.ceil(share * n - 1e-9)))
        caught = float(hits[k - 1])
        out.append(
            {
                "share": share,
                "k": k,
                "positives": int(caught),
                "precision": caught / k,
                "recall": caught / positives,
                "lift": caught / k / base_rate,
                "min_score": float(s_sorted[k - 1]),
                "alert_budget": share == budget,
            }
        )
    return out


def _calibration(y: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    """Reliability in equal-count bins of the score; ECE weighs each bin's gap by its rows."""
    edges = np.unique(np.quantile(scores, np.linspace(0, 1, _CALIBRATION_BINS + 1)))
    if len(edges) < 2:
        edges = np.array([edges[0], edges[0]])
    codes = np.clip(np.searchsorted(edges, scores, side="right") - 1, 0, len(edges) - 2)
    k = len(edges) - 1
    rows = np.bincount(codes, minlength=k).astype(np.float64)
    keep = rows > 0
    mean_score = np.bincount(codes, weights=scores, minlength=k)[keep] / rows[keep]
    hits = np.bincount(codes, weights=y, minlength=k)[keep]
    observed = hits / rows[keep]
    lo, hi = _wilson(hits, rows[keep])
    return {
        "bins": {
            "lower": edges[:-1][keep],
            "upper": edges[1:][keep],
            "rows": rows[keep].astype(np.int64),
            "mean_score": mean_score,
            "positive_rate": observed,
            "positive_rate_ci95_low": lo,
            "positive_rate_ci95_high": hi,
        },
        "ece": float(np.sum(rows[keep] * np.abs(mean_score - observed)) / len(y)),
        "brier": float(np.mean((scores - y) ** 2)),
        "mean_score": float(np.mean(scores)),
        "positive_rate": float(np.mean(y)),
    }


def _wilson(hits: np.ndarray, rows: np.ndarray, z: float = 1.96) -> tuple[np.ndarray, ...]:
    p = hits / rows
    centre = (p + z**2 / (2 * rows)) / (1 + z**2 / rows)
    half = z * np.sqrt(p * (1 - p) / rows + z**2 / (4 * rows**2)) / (1 + z**2 / rows)
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def _score_distribution(y: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    edges = np.linspace(0.0, 1.0, HISTOGRAM_BINS + 1)
    codes = np.clip((scores * HISTOGRAM_BINS).astype(np.int64), 0, HISTOGRAM_BINS - 1)
    return {
        "edges": edges,
        "positive": np.bincount(codes, weights=y, minlength=HISTOGRAM_BINS).astype(np.int64),
        "negative": np.bincount(codes, weights=1 - y, minlength=HISTOGRAM_BINS).astype(np.int64),
    }
