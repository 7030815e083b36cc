"""CBPE tracks the real metric on calibrated data; NDCG reads a ranking change."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, roc_auc_score

from shipyard.monitor._attribution import ndcg
from shipyard.monitor._cbpe import cbpe_estimate


@pytest.mark.parametrize("shape", [(1.0, 4.0), (2.0, 2.0), (0.5, 0.5)])
def test_cbpe_tracks_the_real_metrics_of_calibrated_scores(
    rng: np.random.Generator, shape: tuple[float, float]
) -> None:
    p = rng.beta(*shape, size=40_000)
    y = rng.random(p.size) < p  # calibrated by construction
    estimate = cbpe_estimate(p, 0.5)
    assert estimate["roc_auc"] == pytest.approx(roc_auc_score(y, p), abs=0.01)
    assert estimate["accuracy"] == pytest.approx(accuracy_score(y, p >= 0.5), abs=0.01)
    assert abs(estimate["roc_auc"] - roc_auc_score(y, p)) < 4 * estimate["roc_auc_se"]


def test_cbpe_sees_a_quality_drop_from_more_uncertain_rows(rng: np.random.Generator) -> None:
    easy = cbpe_estimate(rng.beta(0.3, 0.3, 20_000), 0.5)
    hard = cbpe_estimate(rng.beta(5, 5, 20_000), 0.5)
    assert hard["roc_auc"] < easy["roc_auc"] - 0.2
    assert hard["accuracy"] < easy["accuracy"] - 0.2


def test_ndcg_is_one_for_the_same_order_and_drops_when_the_top_changes() -> None:
    base = {"mb": 1.0, "partner": 0.3, "calls": 0.1}
    assert ndcg(base, {"mb": 5.0, "partner": 2.0, "calls": 0.0}) == pytest.approx(1.0)
    swapped_tail = ndcg(base, {"mb": 1.0, "calls": 0.5, "partner": 0.2})
    swapped_top = ndcg(base, {"calls": 1.0, "partner": 0.5, "mb": 0.2})
    assert 0.9 < swapped_tail < 1.0
    assert swapped_top < 0.9
