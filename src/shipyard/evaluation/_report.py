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
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shipyard.evaluation._binary import HISTOGRAM_BINS, TOP_K_SHARES, binary_report
from shipyard.evaluation._bootstrap import bootstrap, multiclass_stats, regression_stats
from shipyard.evaluation._slices import FLAG_RULES, slice_metrics
from shipyard.model import Problem

__all__ = ["EVALUATION_VERSION", "TOP_K_SHARES", "evaluate_test"]

EVALUATION_VERSION = 1

_SCATTER_POINTS = 1000
_CURVE_STEPS = 500
_LEADERBOARD_ROWS = 20


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
            ``_binary._BOOTSTRAP_MINORITY`` rows of the rarer class.
        seed: Seed of the bootstrap and of sampled plots; the same seed, the same report.
    """
    y = np.asarray(y, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    report: dict[str, Any] = {
        "version": EVALUATION_VERSION,
        "problem_type": problem.type,
        "target": problem.target,
        "rows": len(y),
    }
    options = {"resamples": resamples, "max_rows": max_bootstrap_rows, "seed": seed}
    # One sort of the scores, high to low, serves the curves, top-k, AUCs and every slice.
    order = np.argsort(-scores, kind="stable") if problem.type == "binary" else None
    rows = _TestRows(problem, y, scores, threshold, order)
    headline, overall = _by_problem(rows, dict(decision or {}), options)
    report.update(headline)
    if slices is not None and len(slices.columns):
        report["slices"] = _slice_report(rows, slices, overall)
    if curves:
        report["learning_curves"] = _learning_curves(curves)
    if leaderboard:
        report["leaderboard"] = _leaderboard(leaderboard, leaderboard_metric)
    report["diagnostics"] = [dict(d) for d in diagnostics or ()]
    return _plain(report)


@dataclass(frozen=True)
class _TestRows:
    """The scored test rows, as every part of the report reads them."""

    problem: Problem
    y: np.ndarray  # encoded targets
    scores: np.ndarray
    threshold: float
    order: np.ndarray | None  # binary only: the rows by score, high to low


def _by_problem(
    rows: _TestRows, decision: dict[str, Any], options: dict[str, int]
) -> tuple[dict[str, Any], dict[str, float | None]]:
    """The problem type's part of the report, and the overall metrics slices are held to."""
    y, scores = rows.y, rows.scores
    if rows.order is not None:
        part = binary_report(rows.problem, y, scores, rows.threshold, decision, options, rows.order)
        return part, {k: part["metrics"][k]["value"] for k in ("roc_auc", "recall")}
    if rows.problem.type == "multiclass":
        part = _multiclass(rows.problem, y, scores, options)
        return part, {"accuracy": part["metrics"]["accuracy"]["value"]}
    part = _regression(y, scores, options, options["seed"])
    return part, {"mae": part["metrics"]["mae"]["value"]}


def _slice_report(
    rows: _TestRows, slices: pd.DataFrame, overall: dict[str, float | None]
) -> dict[str, Any]:
    """Metrics per value of each slicing column, with the rule that flags a bad slice."""
    kind = rows.problem.type
    return {
        "flag_rule": FLAG_RULES[kind],
        "columns": [
            slice_metrics(
                kind,
                slices[c].reset_index(drop=True),
                rows.y,
                rows.scores,
                threshold=rows.threshold,
                overall=overall,
                order=None if rows.order is None else rows.order[::-1],
            )
            for c in slices.columns
        ],
    }


def _leaderboard(rows: Sequence[Mapping[str, Any]], metric: str | None) -> dict[str, Any]:
    """The leaderboard's best rows, the metric they are ranked by, and how many there were."""
    return {
        "metric": metric,
        "rows": [dict(r) for r in rows[:_LEADERBOARD_ROWS]],
        "total": len(rows),
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
    counts, hist_edges = np.histogram(residual, bins=HISTOGRAM_BINS)
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
