"""Two models on the same rows: the difference of a metric with a paired bootstrap interval.

Each resample draws one set of rows and scores both models on it (the same weight row for
both, see :mod:`shipyard.evaluation._bootstrap`), so the interval is that of the difference,
not of two metrics drawn apart: what the rows have in common (hard cases, base rate) cancels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shipyard.errors import InvalidInput
from shipyard.evaluation._bootstrap import (
    BINARY_STATS,
    MULTICLASS_STATS,
    REGRESSION_STATS,
    Stats,
    _resample_counts,
    binary_stats,
    multiclass_stats,
    regression_stats,
)
from shipyard.evaluation._metrics import HIGHER_IS_BETTER

__all__ = ["paired_difference"]

_CHUNK = 50
_METRICS = {"binary": BINARY_STATS, "multiclass": MULTICLASS_STATS, "regression": REGRESSION_STATS}


def paired_difference(
    problem_type: str,
    y: np.ndarray,
    candidate: np.ndarray,
    champion: np.ndarray,
    *,
    metric: str,
    thresholds: tuple[float, float] = (0.5, 0.5),
    resamples: int = 1000,
    max_rows: int = 20_000,
    seed: int = 0,
) -> dict[str, Any]:
    """How much better ``candidate`` scores than ``champion`` on the same rows, with a paired
    bootstrap 95% percentile interval.

    The improvement is oriented so that positive means better: ``candidate - champion`` for a
    metric where higher is better (roc_auc), ``champion - candidate`` where lower is (rmse).
    Past ``max_rows`` the resamples draw from a seeded subset of that many rows and their
    spread is scaled by sqrt(subset / rows), as :func:`~shipyard.evaluation.metric_intervals`
    does.

    Args:
        problem_type: binary, multiclass or regression.
        y: Encoded targets (0/1, class indices, or values).
        candidate: The candidate's scores: P(positive), class probabilities, or predictions.
        champion: The champion's scores on the same rows, in the same form.
        metric: A metric of the problem type (``roc_auc``, ``log_loss``, ``rmse``, ...).
        thresholds: The candidate's and the champion's decision thresholds (binary).

    Returns:
        ``{"metric", "higher_is_better", "candidate", "champion", "improvement", "ci95":
        [lo, hi] or None, "share_better", "resamples", "rows", "bootstrap_rows", "scaled",
        "seed"}``; ``ci95`` is None when too few resamples give a finite value.

    Raises:
        InvalidInput: An unknown problem type or a metric it does not have, no rows, or
            scores of another length than the targets.
    """
    _check_metric(problem_type, metric)
    y = np.asarray(y, dtype=np.float64)
    scores = [np.asarray(s, dtype=np.float64) for s in (candidate, champion)]
    n = len(y)
    if n == 0 or any(len(s) != n for s in scores):
        raise InvalidInput(
            f"Both models need a score for each of the rows. Got {n} targets and "
            f"{len(scores[0])} and {len(scores[1])} scores."
        )
    sign = 1.0 if HIGHER_IS_BETTER[metric] else -1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        values, draws, m = _draws(problem_type, y, scores, thresholds, metric, sign,
                                  resamples, max_rows, seed)  # fmt: skip
    improvement = sign * (values[0] - values[1])
    spread = np.sqrt(m / n) * draws  # the scaled distribution of improvement - estimate
    ci: list[float] | None = None
    if np.isfinite(improvement) and len(draws) >= 0.9 * resamples:
        lo, hi = improvement + np.quantile(spread, [0.025, 0.975])
        ci = [float(min(lo, improvement)), float(max(hi, improvement))]
    return {
        "metric": metric,
        "higher_is_better": HIGHER_IS_BETTER[metric],
        "candidate": _finite(values[0]),
        "champion": _finite(values[1]),
        "improvement": _finite(improvement),
        "ci95": ci,
        "share_better": float(np.mean(improvement + spread > 0)) if ci else None,
        "resamples": resamples,
        "rows": n,
        "bootstrap_rows": m,
        "scaled": m < n,
        "seed": seed,
        "method": "paired bootstrap, percentile 95%",
    }


def _draws(
    problem_type: str,
    y: np.ndarray,
    scores: list[np.ndarray],
    thresholds: tuple[float, float],
    metric: str,
    sign: float,
    resamples: int,
    max_rows: int,
    seed: int,
) -> tuple[list[float], np.ndarray, int]:
    """Both models' metric on all rows, and the resampled improvements minus their centre
    (finite ones only), drawn from at most ``max_rows`` rows (how many: the third value)."""
    n = len(y)

    def stats_of(rows: np.ndarray | None) -> list[Stats]:
        return [
            _stats(problem_type, y if rows is None else y[rows], s if rows is None else s[rows], t)
            for s, t in zip(scores, thresholds, strict=True)
        ]

    rng = np.random.default_rng(seed)
    values = [float(f(np.ones((1, n)))[metric][0]) for f in stats_of(None)]
    subset = np.arange(n) if n <= max_rows else np.sort(rng.choice(n, max_rows, False))
    m = len(subset)
    sub_stats = stats_of(subset if m < n else None)
    centre = sign * (
        values[0] - values[1]
        if m == n
        else float(sub_stats[0](np.ones((1, m)))[metric][0])
        - float(sub_stats[1](np.ones((1, m)))[metric][0])
    )
    draws = []
    for start in range(0, resamples, _CHUNK):
        w = _resample_counts(rng, min(_CHUNK, resamples - start), m)
        draws.append(sign * (sub_stats[0](w)[metric] - sub_stats[1](w)[metric]) - centre)
    spread = np.concatenate(draws)
    return values, spread[np.isfinite(spread)], m


def _check_metric(problem_type: str, metric: str) -> None:
    known = _METRICS.get(problem_type)
    if known is None:
        raise InvalidInput(
            "The problem type must be binary, multiclass or regression. "
            f"Got {problem_type!r} instead."
        )
    if metric not in known:
        raise InvalidInput(
            f"'{metric}' is not a metric of a {problem_type} model. Use one of: {', '.join(known)}."
        )


def _stats(problem_type: str, y: np.ndarray, scores: np.ndarray, threshold: float) -> Stats:
    if problem_type == "binary":
        return binary_stats(y, scores, threshold)
    if problem_type == "multiclass":
        return multiclass_stats(y, scores)
    return regression_stats(y, scores)


def _finite(value: float) -> float | None:
    return value if np.isfinite(value) else None
