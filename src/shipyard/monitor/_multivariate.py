"""Multivariate drift: can a classifier tell current rows from reference rows?

A domain classifier (LightGBM, on a bounded balanced sample, scored on held-out rows) sees
what per-column tests cannot: a change in how columns move together, such as a correlation
that appears or vanishes while every marginal stays put. Its held-out ROC AUC is the
statistic: 0.5 means the sides are indistinguishable. The data drifts when the AUC is at least
:data:`AUC_THRESHOLD` (a small but real effect: about a fifth of a standard deviation between
the two score distributions) and significantly above 0.5 (Mann-Whitney, one-sided). PCA
reconstruction error (NannyML's) was not chosen: it only sees a correlation that the reference
had and the current lost, not one that appears.
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
_TREES = 100


@dataclass(frozen=True)
class Multivariate:
    """The result of the domain classifier (see :class:`shipyard.monitor.MultivariateDrift`)."""

    auc: float
    p_value: float
    drifted: bool
    rows_per_side: int
    top_columns: list[tuple[str, float]]
    correlation_change: dict[str, Any] | None


def _matrix(
    ref: pa.Table, cur: pa.Table, columns: Sequence[tuple[str, bool]]
) -> tuple[NDArray[np.float64], list[int]]:
    """Both samples stacked as floats; categories as shared integer codes (NaN = missing)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cols, categorical = [], []
    for j, (name, is_cat) in enumerate(columns):
        both = pa.chunked_array(ref.column(name).chunks + cur.column(name).chunks)
        if is_cat:
            codes = pc.dictionary_encode(both.cast(pa.string())).combine_chunks().indices
            arr = np.asarray(codes.to_numpy(zero_copy_only=False), dtype=np.float64)
            categorical.append(j)
        else:
            arr = np.asarray(both.to_numpy(), dtype=np.float64)
        cols.append(arr)
    return np.column_stack(cols), categorical


def _correlation_change(
    x: NDArray[np.float64], n_ref: int, names: list[str], numeric: list[int]
) -> dict[str, Any] | None:
    """The pair of numeric columns whose Pearson correlation moved the most."""
    if len(numeric) < 2:
        return None
    with np.errstate(invalid="ignore", divide="ignore"):
        a = stats.pairwise_pearson(x[:n_ref, numeric])
        b = stats.pairwise_pearson(x[n_ref:, numeric])
    gap = np.abs(np.nan_to_num(a) - np.nan_to_num(b))
    np.fill_diagonal(gap, 0)
    i, j = np.unravel_index(int(np.argmax(gap)), gap.shape)
    return {
        "columns": [names[numeric[i]], names[numeric[j]]],
        "reference": None if math.isnan(a[i, j]) else float(a[i, j]),
        "current": None if math.isnan(b[i, j]) else float(b[i, j]),
    }


def domain_classifier(
    ref: pa.Table, cur: pa.Table, columns: Sequence[tuple[str, bool]], *, seed: int = 0
) -> Multivariate | None:
    """Train on half of a balanced sample, score the other half; None when too few rows.

    Args:
        ref: The reference sample (the columns below, numbers as floats).
        cur: The current sample.
        columns: ``(name, is_categorical)`` of each column to use.
        seed: Seeds the split and the trees.
    """
    m = min(ref.num_rows, cur.num_rows)
    if m < MIN_ROWS or not columns:
        return None
    import lightgbm as lgb

    rng = np.random.default_rng(seed)
    ref = ref.take(rng.permutation(ref.num_rows)[:m])
    cur = cur.take(rng.permutation(cur.num_rows)[:m])
    x, categorical = _matrix(ref, cur, columns)
    y = np.r_[np.zeros(m), np.ones(m)]
    train = np.zeros(2 * m, dtype=bool)
    train[rng.permutation(m)[: m // 2]] = True
    train[m + rng.permutation(m)[: m // 2]] = True
    params = {
        "objective": "binary",
        "learning_rate": 0.1,
        "num_leaves": 15,
        "min_data_in_leaf": max(5, min(50, m // 40)),
        "num_threads": 2,
        "verbose": -1,
        "seed": seed,
        "deterministic": True,
    }
    data = lgb.Dataset(x[train], y[train], categorical_feature=categorical, free_raw_data=True)
    booster = lgb.train(params, data, num_boost_round=_TREES)
    scores = booster.predict(x[~train])
    held = y[~train].astype(bool)
    auc = stats.auc(scores, held)
    n1, n0 = int(held.sum()), int((~held).sum())
    z = (auc - 0.5) / math.sqrt((n1 + n0 + 1) / (12 * n1 * n0))
    from scipy.stats import norm

    p = float(norm.sf(z))
    gain = booster.feature_importance("gain")
    share = gain / gain.sum() if gain.sum() > 0 else gain
    names = [c for c, _ in columns]
    top = [(names[i], float(share[i])) for i in np.argsort(-share)[:3] if share[i] > 0]
    numeric = [j for j, (_, is_cat) in enumerate(columns) if not is_cat]
    return Multivariate(
        auc=float(auc),
        p_value=p,
        drifted=bool(auc >= AUC_THRESHOLD and p < ALPHA),
        rows_per_side=m,
        top_columns=top,
        correlation_change=_correlation_change(x, m, names, numeric),
    )
