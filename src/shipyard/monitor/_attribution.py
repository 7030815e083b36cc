"""Feature-attribution drift: how far the SHAP ranking on captured rows moved from the
baseline's, scored with NDCG as SageMaker Clarify does (alert below 0.90); and the ranking
itself, on as many rows as a time bound allows."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from shipyard.model import TabularModel

__all__ = ["ATTRIBUTION_ROWS", "NDCG_THRESHOLD", "bounded_attribution", "ndcg"]

NDCG_THRESHOLD = 0.90
ATTRIBUTION_ROWS = 2_000
"""At most this many rows are explained for the attribution ranking (tree SHAP is per row)."""
ATTRIBUTION_SECONDS = 2.0
"""The ranking's default time bound: it explains only as many rows as fit in it..."""
MIN_ATTRIBUTION_ROWS = 100
"""...and never fewer than this many (:func:`bounded_attribution`)."""


def ndcg(
    baseline: Mapping[str, float], current: Mapping[str, float], k: int | None = None
) -> float:
    """NDCG of the current ranking, with the baseline attributions as relevance.

    The features are ranked by the current attributions; each place earns the baseline
    attribution of the feature there, discounted by log2(rank + 1); the ideal is the baseline
    order. 1.0 when the order is unchanged (over the top ``k``, default all).
    """
    ranked = sorted(current, key=lambda f: -current[f])
    ideal = sorted(baseline, key=lambda f: -baseline[f])
    k = len(ideal) if k is None else k
    dcg = sum(baseline.get(f, 0.0) / math.log2(i + 2) for i, f in enumerate(ranked[:k]))
    idcg = sum(baseline[f] / math.log2(i + 2) for i, f in enumerate(ideal[:k]))
    return float(dcg / idcg) if idcg > 0 else 1.0


def bounded_attribution(
    model: TabularModel,
    frame: pd.DataFrame,
    seconds: float = ATTRIBUTION_SECONDS,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[dict[str, float], int] | None:
    """The mean |contribution| of each feature (largest first) over the first rows of
    ``frame`` that ``seconds`` allow, and how many rows that was (at least
    :data:`MIN_ATTRIBUTION_ROWS`); None when the model cannot explain.

    Tree SHAP's cost grows with a model's trees and depth: an ensemble of deep boosters
    explains a few hundred rows a second, which made 2,000 rows take 40 s of a 60 s training
    budget. The first rows are timed and only as many more as fit are explained.
    """
    started = clock()
    first = model.mean_abs_contributions(frame.iloc[:MIN_ATTRIBUTION_ROWS])
    n_first = min(len(frame), MIN_ATTRIBUTION_ROWS)
    if first is None:
        return None
    spent = clock() - started
    affordable = int(seconds * n_first / spent) if spent > 0 else len(frame)
    n_more = min(len(frame), affordable) - n_first
    more = None
    if n_more > 0:
        more = model.mean_abs_contributions(frame.iloc[n_first : n_first + n_more])
    if more is None:
        return first, n_first
    total = n_first + n_more
    means = {k: (v * n_first + more.get(k, 0.0) * n_more) / total for k, v in first.items()}
    return dict(sorted(means.items(), key=lambda kv: -kv[1])), total
