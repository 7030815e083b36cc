"""CBPE tracks the real metric on calibrated data; NDCG reads a ranking change; the ranking
itself is bounded in time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, roc_auc_score

from shipyard.monitor._attribution import (
    ATTRIBUTION_SECONDS,
    MIN_ATTRIBUTION_ROWS,
    bounded_attribution,
    ndcg,
)
from shipyard.monitor._cbpe import cbpe_estimate
from shipyard.monitor.baseline import attribution_bound, baseline_seconds


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


class _SlowModel:
    """Explains each row at a fixed cost on a fake clock; feature a's |contribution| is the
    row's value, b's is 1."""

    def __init__(self, seconds_per_row: float) -> None:
        self.now = 0.0
        self.per_row = seconds_per_row
        self.explained = 0

    def clock(self) -> float:
        return self.now

    def mean_abs_contributions(self, frame: pd.DataFrame) -> dict[str, float] | None:
        self.now += self.per_row * len(frame)
        self.explained += len(frame)
        means = {"a": float(frame["a"].abs().mean()), "b": 1.0}
        return dict(sorted(means.items(), key=lambda kv: -kv[1]))  # largest first, as models do


@pytest.mark.parametrize(
    ("per_row", "rows"), [(0.1, MIN_ATTRIBUTION_ROWS), (0.002, 1_000), (0.0, 2_000)]
)
def test_the_attribution_ranking_explains_as_many_rows_as_its_time_allows(
    per_row: float, rows: int
) -> None:
    frame = pd.DataFrame({"a": np.arange(2_000, dtype=float) / 500})
    model = _SlowModel(per_row)
    out = bounded_attribution(model, frame, seconds=2.0, clock=model.clock)  # type: ignore[arg-type]
    assert out is not None
    means, explained = out
    assert explained == model.explained == rows
    # the weighted mean over the rows explained, ranked largest first
    assert means["a"] == pytest.approx(frame["a"].iloc[:rows].mean())
    assert list(means) == sorted(means, key=lambda f: -means[f])


def test_a_training_budget_bounds_the_attribution_time_it_reserves() -> None:
    assert attribution_bound(None) == ATTRIBUTION_SECONDS
    assert attribution_bound(600) == ATTRIBUTION_SECONDS
    assert attribution_bound(5) == pytest.approx(0.15)  # a 5 s search keeps its room
    assert baseline_seconds(0, 5) < baseline_seconds(0, 60) <= 0.5 + ATTRIBUTION_SECONDS
