"""Feature-attribution drift: how far the SHAP ranking on captured rows moved from the
baseline's, scored with NDCG as SageMaker Clarify does (alert below 0.90)."""

from __future__ import annotations

import math
from collections.abc import Mapping

__all__ = ["NDCG_THRESHOLD", "ndcg"]

NDCG_THRESHOLD = 0.90


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
