"""Headline metrics with bootstrap 95% intervals, for any scored rows (a monitor's window)."""

from __future__ import annotations

from typing import Any

import numpy as np

from shipyard.errors import InvalidInput
from shipyard.evaluation._bootstrap import (
    binary_stats,
    bootstrap,
    multiclass_stats,
    regression_stats,
)

__all__ = ["metric_intervals"]


def metric_intervals(
    problem_type: str,
    y: np.ndarray,
    scores: np.ndarray,
    *,
    threshold: float = 0.5,
    resamples: int = 200,
    max_rows: int = 20_000,
    seed: int = 0,
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The metrics the evaluation report gives, with the same bootstrap intervals.

    Args:
        problem_type: binary, multiclass or regression.
        y: Encoded targets (0/1 for binary, class indices for multiclass, values).
        scores: P(positive) (binary), class probabilities (multiclass) or predictions.
        threshold: The binary decision threshold.

    Returns:
        ``{metric: {"value", "ci95": [lo, hi] or None}}`` and the bootstrap's description.

    Raises:
        InvalidInput: No rows, rows of different lengths, or an unknown problem type.
    """
    y = np.asarray(y, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    if len(y) == 0 or len(y) != len(scores):
        raise InvalidInput(
            f"metric_intervals needs as many scores as targets, at least one. Got {len(y)} "
            f"targets and {len(scores)} scores."
        )
    if problem_type == "binary":

        def make(rows: np.ndarray | None) -> Any:
            return (
                binary_stats(y, scores, threshold)
                if rows is None
                else binary_stats(y[rows], scores[rows], threshold)
            )
    elif problem_type == "multiclass":

        def make(rows: np.ndarray | None) -> Any:
            return (
                multiclass_stats(y, scores)
                if rows is None
                else multiclass_stats(y[rows], scores[rows])
            )
    elif problem_type == "regression":

        def make(rows: np.ndarray | None) -> Any:
            return (
                regression_stats(y, scores)
                if rows is None
                else regression_stats(y[rows], scores[rows])
            )
    else:
        raise InvalidInput(
            "The problem type must be binary, multiclass or regression. "
            f"Got {problem_type!r} instead."
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        return bootstrap(make, len(y), resamples=resamples, max_rows=max_rows, seed=seed)
