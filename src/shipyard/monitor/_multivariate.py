"""Multivariate drift: can a classifier tell current rows from reference rows?

A domain classifier, trained on half of a bounded balanced sample and scored on the other
half, sees what per-column tests cannot: a change in how columns move together, such as a
correlation that appears or vanishes while every marginal stays put. Its held-out ROC AUC is
the statistic: 0.5 means the sides are indistinguishable. The data drifts when the AUC is at
least :data:`AUC_THRESHOLD` (a small but real effect: about a fifth of a standard deviation
between the two score distributions) and significantly above 0.5 (Mann-Whitney, one-sided).
Scored on rows it did not see, the AUC is honest whatever the model, so a chance pattern in
the training half cannot raise a false alarm.

The classifier is a quadratic discriminant (one Gaussian per side) on normal scores: each
number is mapped through the reference's empirical CDF and the inverse normal CDF (a
Gaussian copula, so skew and outliers do not dominate); each category is one-hot over its
most frequent levels; a missing value is a flag. Its log-likelihood ratio responds to shifts
in means, spreads and correlations, which is what a tabular drift usually is, and it costs
milliseconds in NumPy. PCA reconstruction error (NannyML's) was not chosen: it sees a
correlation the reference had and the current lost, not one that appears. A boosted-tree
classifier would see more shapes but costs seconds to import and train.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from shipyard.analyze import stats
from shipyard.monitor._drift_tests import ALPHA

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["AUC_THRESHOLD", "MIN_ROWS", "Multivariate", "domain_classifier"]

AUC_THRESHOLD = 0.55
MIN_ROWS = 50
"""Fewer sampled rows per side than this: no multivariate check (it would say nothing)."""
MAX_ROWS = 10_000
"""Rows used per side: 5,000 to fit, 5,000 to score, so the AUC's noise (SD 0.006) is far
below the 0.05 margin of the threshold."""
_LEVELS = 10
_SHRINK = 0.05


@dataclass(frozen=True)
class Multivariate:
    """The result of the domain classifier (see :class:`shipyard.monitor.MultivariateDrift`)."""

    auc: float
    p_value: float
    drifted: bool
    rows_per_side: int
    top_columns: list[tuple[str, float]]
    correlation_change: dict[str, Any] | None


def _normal_scores(
    values: NDArray[np.float64], reference: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Each value through the reference's empirical CDF, then the inverse normal CDF."""
    from scipy.special import ndtri

    ref = np.sort(reference[np.isfinite(reference)])
    if ref.size == 0:
        return np.zeros(values.shape)
    mid = (np.searchsorted(ref, values, "left") + np.searchsorted(ref, values, "right")) / 2
    u = np.clip(mid / ref.size, 0.5 / ref.size, 1 - 0.5 / ref.size)
    out = ndtri(u)
    out[~np.isfinite(values)] = 0.0
    return np.asarray(out, dtype=np.float64)


def _features(
    ref: pa.Table, cur: pa.Table, columns: Sequence[tuple[str, bool]], fit_rows: NDArray[np.bool_]
) -> tuple[NDArray[np.float64], list[int], list[int]]:
    """Both samples stacked as features; also each feature's column index, and which
    features are the numbers' normal scores (for the correlation readout)."""
    import pyarrow as pa

    blocks: list[NDArray[np.float64]] = []
    owner: list[int] = []
    scores: list[int] = []
    n_ref = ref.num_rows
    for j, (name, is_cat) in enumerate(columns):
        both = pa.chunked_array(ref.column(name).chunks + cur.column(name).chunks)
        if is_cat:
            # Missing is a level of its own; codes index the dictionary of both sides.
            encoded = both.cast(pa.string()).fill_null("(missing)").dictionary_encode()
            encoded = encoded.combine_chunks()
            codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
            n_levels = len(encoded.dictionary)
            freq = np.bincount(codes[fit_rows], minlength=n_levels)
            top = np.argsort(-freq, kind="stable")[: min(_LEVELS, n_levels) - 1]
            block = (codes[:, None] == top[None, :]).astype(np.float64)
        else:
            x = np.asarray(both.to_numpy(), dtype=np.float64)
            ref_fit = x[:n_ref][fit_rows[:n_ref]]
            scores.append(len(owner))
            block = _normal_scores(x, ref_fit)[:, None]
            missing = ~np.isfinite(x)
            if missing.any():
                block = np.column_stack([block, missing.astype(np.float64)])
        blocks.append(block)
        owner += [j] * block.shape[1]
    return np.column_stack(blocks), owner, scores


def _gaussian(x: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """Mean, inverse Cholesky factor of the covariance (shrunk towards its diagonal) and
    the log-determinant."""
    mean = x.mean(axis=0)
    cov = np.cov(x, rowvar=False).reshape(x.shape[1], x.shape[1])
    diag = np.diag(np.diag(cov))
    cov = (1 - _SHRINK) * cov + _SHRINK * diag + 1e-6 * np.eye(cov.shape[0])
    # Positive definite by the ridge: a Cholesky factor gives both the inverse and the
    # log-determinant without an SVD.
    chol = np.linalg.cholesky(cov)
    inv_chol = np.linalg.inv(chol)
    return mean, inv_chol, float(2 * np.log(np.diag(chol)).sum())


def _log_density(x: NDArray[np.float64], model: tuple[Any, Any, float]) -> NDArray[np.float64]:
    mean, inv_chol, logdet = model
    w = (x - mean) @ inv_chol.T
    return np.asarray(-0.5 * ((w * w).sum(axis=1) + logdet))


def _correlation_change(
    x: NDArray[np.float64], n_ref: int, names: list[str], owner: list[int], scores: list[int]
) -> dict[str, Any] | None:
    """The pair of numbers whose (normal-score) correlation moved the most."""
    if len(scores) < 2:
        return None
    with np.errstate(invalid="ignore", divide="ignore"):
        a = stats.pairwise_pearson(x[:n_ref, scores])
        b = stats.pairwise_pearson(x[n_ref:, scores])
    gap = np.abs(np.nan_to_num(a) - np.nan_to_num(b))
    np.fill_diagonal(gap, 0)
    i, j = np.unravel_index(int(np.argmax(gap)), gap.shape)
    return {
        "columns": [names[owner[scores[i]]], names[owner[scores[j]]]],
        "reference": None if math.isnan(a[i, j]) else float(a[i, j]),
        "current": None if math.isnan(b[i, j]) else float(b[i, j]),
    }


def _top_columns(
    x: NDArray[np.float64], n_ref: int, names: list[str], owner: list[int]
) -> list[tuple[str, float]]:
    """Columns ranked by how far their features' means and spreads moved (in SDs)."""
    a, b = x[:n_ref], x[n_ref:]
    sd = np.where(a.std(axis=0) > 0, a.std(axis=0), 1.0)
    moved = np.abs(b.mean(axis=0) - a.mean(axis=0)) / sd + np.abs(b.std(axis=0) / sd - 1)
    per_column = np.zeros(len(names))
    np.maximum.at(per_column, np.asarray(owner), moved)
    order = np.argsort(-per_column, kind="stable")[:3]
    return [(names[i], float(per_column[i])) for i in order]


def domain_classifier(
    ref: pa.Table, cur: pa.Table, columns: Sequence[tuple[str, bool]], *, seed: int = 0
) -> Multivariate | None:
    """Fit on half of a balanced sample, score the other half; None when too few rows.

    Args:
        ref: The reference sample (the columns below, numbers as floats).
        cur: The current sample.
        columns: ``(name, is_categorical)`` of each column to use.
        seed: Seeds the balancing and the split.
    """
    m = min(ref.num_rows, cur.num_rows, MAX_ROWS)
    if m < MIN_ROWS or not columns:
        return None
    rng = np.random.default_rng(seed)
    ref = ref.take(rng.permutation(ref.num_rows)[:m])
    cur = cur.take(rng.permutation(cur.num_rows)[:m])
    fit = np.zeros(2 * m, dtype=bool)
    fit[rng.permutation(m)[: m // 2]] = True
    fit[m + rng.permutation(m)[: m // 2]] = True
    x, owner, scores = _features(ref, cur, columns, fit)
    is_cur = np.r_[np.zeros(m, dtype=bool), np.ones(m, dtype=bool)]
    ratio = _log_density(x[~fit], _gaussian(x[fit & is_cur])) - _log_density(
        x[~fit], _gaussian(x[fit & ~is_cur])
    )
    held = is_cur[~fit]
    auc = stats.auc(np.nan_to_num(ratio), held)
    n1, n0 = int(held.sum()), int((~held).sum())
    z = (auc - 0.5) / math.sqrt((n1 + n0 + 1) / (12 * n1 * n0))
    from scipy.special import ndtr

    p = float(ndtr(-z))
    names = [c for c, _ in columns]
    return Multivariate(
        auc=float(auc),
        p_value=p,
        drifted=bool(auc >= AUC_THRESHOLD and p < ALPHA),
        rows_per_side=m,
        top_columns=_top_columns(x, m, names, owner),
        correlation_change=_correlation_change(x, m, names, owner, scores),
    )
