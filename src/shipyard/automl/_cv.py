"""How a search validates: k-fold cross-validation on small data, the holdout on large.

A holdout of a few dozen rows cannot rank candidates: on ``breast_cancer`` (64 validation
rows) every configuration ties at an AUC near 1, and the pick is noise. Below
:data:`CV_MAX_ROWS` rows of train + validation, a search therefore pools the two parts and
scores each trial by stratified k-fold cross-validation (repeated with new shuffles when the
pool is small enough for that to be cheap); the fold models' out-of-fold predictions take
the place of validation scores for ensembling, calibration and the decision threshold, and
the fold models themselves, bagged, can be the final model. Above it, the holdout stays: the
noise of a large validation set is below the gaps between candidates, and k fits per trial
would cost k times the search.

The thresholds were measured with ``benchmarks/automl_cv_threshold.py`` (figures in
``benchmarks/results/automl_cv_threshold.md``): selecting among the same eight candidates,
5-fold CV beat the holdout on test ROC AUC by +0.006 to +0.010 at 500 rows, +0.001 to
+0.017 at 2,000, +0.001 to +0.006 at 5,000 and +0.001 at 10,000 (adult), at four to five
times the selection time; so below 10,000 rows CV pays, above it the holdout's noise is
below the candidates' gaps. The bag of fold models beat a refit of the same configuration
in 18 of 25 cells (mean +0.0014), so the bag is the final model when it is fast enough.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold

from shipyard.automl._trial import SearchData

__all__ = [
    "CV_FOLDS",
    "CV_MAX_ROWS",
    "REPEAT_MAX_ROWS",
    "Folds",
    "cross_validated",
    "make_folds",
]

CV_MAX_ROWS = 10_000
"""Rows of train + validation below which a search cross-validates (measured)."""

REPEAT_MAX_ROWS = 2_000
"""Rows below which the k folds are repeated with a second shuffle (cheap there)."""

CV_FOLDS = 5


@dataclass(frozen=True)
class Folds:
    """The (fit rows, held-out rows) of every fold, into the pooled rows; ``k`` folds per
    repeat, ``repeats`` shuffles."""

    splits: list[tuple[np.ndarray, np.ndarray]]
    k: int
    repeats: int

    def describe(self) -> str:
        repeated = f", repeated up to {self.repeats}x" if self.repeats > 1 else ""
        return f"{self.k}-fold cross-validation{repeated}"


def make_folds(y: np.ndarray, *, stratify: bool, seed: int, k: int, repeats: int) -> Folds:
    """Seeded folds over ``y``: stratified on the class when ``stratify`` and every class
    has at least ``k`` rows, else plain shuffled k-fold."""
    if stratify:
        _, counts = np.unique(y, return_counts=True)
        stratify = bool(counts.min() >= k)
    splits: list[tuple[np.ndarray, np.ndarray]] = []
    for r in range(repeats):
        cv = (StratifiedKFold if stratify else KFold)(k, shuffle=True, random_state=seed + r)
        splits.extend(cv.split(np.zeros(len(y)), y))
    return Folds(splits, k, repeats)


def cross_validated(
    data: SearchData,
    *,
    seed: int,
    max_rows: int | None = None,
    k: int = CV_FOLDS,
) -> SearchData:
    """``data`` as the search should validate it: unchanged when its train + validation
    rows reach ``max_rows`` (default :data:`CV_MAX_ROWS`; or there are too few rows for
    ``k`` folds), else pooled and split into folds (with a second shuffle below
    :data:`REPEAT_MAX_ROWS`, run when time allows)."""
    if data.folds is not None:
        return data
    n = len(data.y_train) + len(data.y_valid)
    if n >= (CV_MAX_ROWS if max_rows is None else max_rows) or n < 2 * k:
        return data
    x = np.vstack([data.x_train, data.x_valid])
    y = np.concatenate([data.y_train, data.y_valid])
    folds = make_folds(
        y,
        stratify=data.problem != "regression",
        seed=seed,
        k=k,
        repeats=2 if n < REPEAT_MAX_ROWS else 1,
    )
    return replace(data, x_train=x, y_train=y, x_valid=x, y_valid=y, folds=folds)
