"""The evaluation report of a model on its test rows, as a JSON-ready dict.

Binary: ROC and PR curves, reliability bins (with Brier and ECE), the confusion matrix at
the chosen threshold and what it means in alerts, precision / recall / lift at the top k% of
scores, the score distribution per class. Multiclass: confusion matrix and per-class
precision / recall / F1. Regression: residuals, predicted vs actual, error by decile. Every
problem: headline metrics with bootstrap 95% intervals, metrics per slice of chosen columns
(slices much worse than overall flagged), and, when given, the winner's learning curves, the
leaderboard and the diagnostics.

Everything is vectorized NumPy: 100,000 test rows take a fraction of a second.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from shipyard.evaluation._bootstrap import (
    binary_stats,
    bootstrap,
    multiclass_stats,
    regression_stats,
)
from shipyard.evaluation._slices import FLAG_RULES, slice_metrics
from shipyard.model import Problem

__all__ = ["EVALUATION_VERSION", "TOP_K_SHARES", "evaluate_test"]

EVALUATION_VERSION = 1
TOP_K_SHARES = (0.001, 0.005, 0.01, 0.02, 0.05, 0.10)
"""Shares of the highest-scored rows the top-k table reports (what a review team reads)."""

_CURVE_POINTS = 300
_CALIBRATION_BINS = 10
_HISTOGRAM_BINS = 40
_SCATTER_POINTS = 1000
_CURVE_STEPS = 500
_LEADERBOARD_ROWS = 20
_BOOTSTRAP_MINORITY = 400


def evaluate_test(
    problem: Problem,
    y: np.ndarray,
    scores: np.ndarray,
    *,
    threshold: float = 0.5,
    decision: Mapping[str, Any] | None = None,
    slices: pd.DataFrame | None = None,
    curves: Mapping[str, Sequence[float]] | None = None,
    leaderboard: Sequence[Mapping[str, Any]] | None = None,
    leaderboard_metric: str | None = None,
    diagnostics: Sequence[Mapping[str, Any]] | None = None,
    resamples: int = 200,
    max_bootstrap_rows: int = 10_000,
    seed: int = 0,
) -> dict[str, Any]:
    """The evaluation report of test ``scores`` against encoded targets ``y``.

    Args:
        problem: The problem (type, classes, positive class).
        y: Encoded targets (see :meth:`Problem.encode`).
        scores: Calibrated P(positive) (binary), class probabilities (multiclass) or
            predictions (regression), as the model version outputs them.
        threshold: The binary decision threshold (flag when score >= threshold).
        decision: How the threshold was chosen (the model's ``decision``); an alert-rate
            rule adds its rate to the top-k table.
        slices: The test rows' columns to slice by (any columns of the table, used as
            features or not), row-aligned with ``y``.
        curves: The winner's learning curves (``train_loss`` / ``valid_loss`` per iteration).
        leaderboard: The AutoML leaderboard rows, best first.
        leaderboard_metric: The metric the leaderboard's ``valid_score`` is.
        diagnostics: Training diagnostics (``{check, severity, message}``).
        resamples: Bootstrap resamples of the confidence intervals.
        max_bootstrap_rows: Rows the bootstrap resamples (see ``_bootstrap``); binary
            problems take up to 5 times more when that is needed to hold
            ``_BOOTSTRAP_MINORITY`` rows of the rarer class.
        seed: Seed of the bootstrap and of sampled plots; the same seed, the same report.
    """
    y = np.asarray(y, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    n = len(y)
    report: dict[str, Any] = {
        "version": EVALUATION_VERSION,
        "problem_type": problem.type,
        "target": problem.target,
        "rows": n,
    }
    options = {"resamples": resamples, "max_rows": max_bootstrap_rows, "seed": seed}
    # One sort of the scores, high to low, serves the curves, top-k, AUCs and every slice.
    order = np.argsort(-scores, kind="stable") if problem.type == "binary" else None
    if order is not None:
        report.update(_binary(problem, y, scores, threshold, dict(decision or {}), options, order))
        overall = {k: report["metrics"][k]["value"] for k in ("roc_auc", "recall")}
    elif problem.type == "multiclass":
        report.update(_multiclass(problem, y, scores, options))
        overall = {"accuracy": report["metrics"]["accuracy"]["value"]}
    else:
        report.update(_regression(y, scores, options, seed))
        overall = {"mae": report["metrics"]["mae"]["value"]}
    if slices is not None and len(slices.columns):
        report["slices"] = {
            "flag_rule": FLAG_RULES[problem.type],
            "columns": [
                slice_metrics(
                    problem.type,
                    slices[c].reset_index(drop=True),
                    y,
                    scores,
                    threshold=threshold,
                    overall=overall,
                    order=None if order is None else order[::-1],
                )
                for c in slices.columns
            ],
        }
    if curves:
        report["learning_curves"] = _learning_curves(curves)
    if leaderboard:
        report["leaderboard"] = {
            "metric": leaderboard_metric,
            "rows": [dict(r) for r in leaderboard[:_LEADERBOARD_ROWS]],
            "total": len(leaderboard),
        }
    report["diagnostics"] = [dict(d) for d in diagnostics or ()]
    return _plain(report)


# --- binary -------------------------------------------------------------------------------


def _binary(
    problem: Problem,
    y: np.ndarray,
    scores: np.ndarray,
    threshold: float,
    decision: dict[str, Any],
    options: dict[str, int],
    order: np.ndarray,
) -> dict[str, Any]:
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
    edges = np.linspace(0.0, 1.0, _HISTOGRAM_BINS + 1)
    codes = np.clip((scores * _HISTOGRAM_BINS).astype(np.int64), 0, _HISTOGRAM_BINS - 1)
    return {
        "edges": edges,
        "positive": np.bincount(codes, weights=y, minlength=_HISTOGRAM_BINS).astype(np.int64),
        "negative": np.bincount(codes, weights=1 - y, minlength=_HISTOGRAM_BINS).astype(np.int64),
    }


# --- multiclass ---------------------------------------------------------------------------


def _multiclass(
    problem: Problem, y: np.ndarray, scores: np.ndarray, options: dict[str, int]
) -> dict[str, Any]:
    k = scores.shape[1]
    truth = y.astype(np.int64)
    predicted = np.argmax(scores, axis=1)
    metrics, method = bootstrap(
        lambda rows: multiclass_stats(*((y, scores) if rows is None else (y[rows], scores[rows]))),
        len(y),
        resamples=options["resamples"],
        max_rows=options["max_rows"],
        seed=options["seed"],
    )
    matrix = np.bincount(truth * k + predicted, minlength=k * k).reshape(k, k)
    tp = np.diag(matrix).astype(np.float64)
    support, called = matrix.sum(axis=1), matrix.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision, recall = tp / called, tp / support
        f1 = 2 * tp / (support + called)
    labels = [str(c) for c in problem.classes]
    return {
        "classes": list(problem.classes),
        "metrics": metrics,
        "bootstrap": method,
        "confusion": {"labels": labels, "matrix": matrix},
        "per_class": [
            {
                "class": labels[c],
                "support": int(support[c]),
                "predicted": int(called[c]),
                "precision": precision[c],
                "recall": recall[c],
                "f1": f1[c],
            }
            for c in range(k)
        ],
    }


# --- regression ---------------------------------------------------------------------------


def _regression(
    y: np.ndarray, predicted: np.ndarray, options: dict[str, int], seed: int
) -> dict[str, Any]:
    n = len(y)
    metrics, method = bootstrap(
        lambda rows: regression_stats(
            *((y, predicted) if rows is None else (y[rows], predicted[rows]))
        ),
        n,
        resamples=options["resamples"],
        max_rows=options["max_rows"],
        seed=options["seed"],
    )
    residual = predicted - y
    quantiles = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
    sample = np.random.default_rng(seed).choice(n, min(n, _SCATTER_POINTS), replace=False)
    edges = np.unique(np.quantile(predicted, np.linspace(0, 1, 11)))
    decile = np.clip(np.searchsorted(edges, predicted, side="right") - 1, 0, len(edges) - 2)
    k = len(edges) - 1
    rows = np.bincount(decile, minlength=k).astype(np.float64)
    keep = rows > 0
    counts, hist_edges = np.histogram(residual, bins=_HISTOGRAM_BINS)
    with np.errstate(divide="ignore", invalid="ignore"):
        by_decile = {
            "lower": edges[:-1][keep],
            "upper": edges[1:][keep],
            "rows": rows[keep].astype(np.int64),
            "mean_predicted": (np.bincount(decile, weights=predicted, minlength=k) / rows)[keep],
            "mean_actual": (np.bincount(decile, weights=y, minlength=k) / rows)[keep],
            "mae": (np.bincount(decile, weights=np.abs(residual), minlength=k) / rows)[keep],
            "rmse": np.sqrt(np.bincount(decile, weights=residual**2, minlength=k) / rows)[keep],
        }
    return {
        "metrics": metrics,
        "bootstrap": method,
        "residuals": {
            "mean": float(np.mean(residual)),
            "std": float(np.std(residual)),
            "max_abs": float(np.max(np.abs(residual))),
            "quantiles": dict(
                zip(
                    [f"p{round(q * 100)}" for q in quantiles],
                    np.quantile(residual, quantiles),
                    strict=True,
                )
            ),
            "histogram": {"edges": hist_edges, "counts": counts},
        },
        "predicted_vs_actual": {"predicted": predicted[sample], "actual": y[sample]},
        "by_decile": by_decile,
    }


# --- shared -------------------------------------------------------------------------------


def _learning_curves(curves: Mapping[str, Sequence[float]]) -> dict[str, Any]:
    """Each curve as (iteration, value) pairs, thinned to at most a few hundred points."""
    out: dict[str, Any] = {}
    for key, curve in curves.items():
        values = np.asarray(curve, dtype=np.float64)
        if not len(values):
            continue
        steps = np.arange(1, len(values) + 1)
        if len(values) > _CURVE_STEPS:
            keep = np.unique(np.linspace(0, len(values) - 1, _CURVE_STEPS).astype(np.int64))
            steps, values = steps[keep], values[keep]
        out[key] = {"step": steps, "value": values}
    return out


def _plain(value: Any) -> Any:
    """JSON-ready: arrays to lists, NumPy scalars to Python, NaN and infinities to None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f" and value.ndim == 1:
            return [float(v) if math.isfinite(v) else None for v in value.tolist()]
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
