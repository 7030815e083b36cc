"""The paired bootstrap of a metric's difference between two models on the same rows."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import rankdata
from sklearn.metrics import mean_squared_error, roc_auc_score

from shipyard.errors import InvalidInput
from shipyard.evaluation import paired_difference


def _binary(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = (rng.random(n) < 0.3).astype(float)
    strong = 1 / (1 + np.exp(-(2.0 * y - 1 + rng.normal(scale=1.0, size=n))))
    weak = 1 / (1 + np.exp(-(1.2 * y - 0.6 + rng.normal(scale=1.0, size=n))))
    return y, strong, weak


def _auc(y: np.ndarray, s: np.ndarray) -> float:
    """Mann-Whitney's AUC (ties as half), the textbook formula."""
    ranks = rankdata(s)
    pos = y == 1
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def test_the_interval_matches_a_plain_paired_bootstrap(rng: np.random.Generator) -> None:
    y, strong, weak = _binary(rng, 1500)
    got = paired_difference("binary", y, strong, weak, metric="roc_auc", resamples=1000)
    assert got["candidate"] == pytest.approx(roc_auc_score(y, strong))
    assert got["champion"] == pytest.approx(roc_auc_score(y, weak))
    assert got["improvement"] == pytest.approx(got["candidate"] - got["champion"])
    # The reference: resample row indices, score both models on each resample with sklearn.
    ref_rng = np.random.default_rng(123)
    diffs = []
    for _ in range(1000):
        rows = ref_rng.integers(0, len(y), len(y))
        diffs.append(_auc(y[rows], strong[rows]) - _auc(y[rows], weak[rows]))
    lo, hi = got["improvement"] + np.quantile(np.array(diffs) - np.mean(diffs), [0.025, 0.975])
    assert got["ci95"][0] == pytest.approx(lo, abs=0.008)
    assert got["ci95"][1] == pytest.approx(hi, abs=0.008)
    assert got["ci95"][0] > 0 and got["share_better"] > 0.99


def test_pairing_narrows_the_interval_of_close_models(rng: np.random.Generator) -> None:
    y, strong, _ = _binary(rng, 1500)
    nudged = np.clip(strong + rng.normal(scale=0.01, size=len(y)), 0, 1)
    got = paired_difference("binary", y, nudged, strong, metric="roc_auc", resamples=500)
    width = got["ci95"][1] - got["ci95"][0]
    assert width < 0.01  # the two AUCs alone each have an interval ~0.05 wide here
    assert got["ci95"][0] <= got["improvement"] <= got["ci95"][1]


def test_a_model_never_beats_itself(rng: np.random.Generator) -> None:
    y, strong, _ = _binary(rng, 400)
    got = paired_difference("binary", y, strong, strong, metric="log_loss", resamples=200)
    assert got["improvement"] == 0 and got["ci95"] == [0.0, 0.0]


def test_lower_is_better_metrics_are_turned_so_positive_means_better(
    rng: np.random.Generator,
) -> None:
    y = rng.normal(size=800)
    good, bad = y + rng.normal(scale=0.5, size=800), y + rng.normal(scale=1.0, size=800)
    got = paired_difference("regression", y, good, bad, metric="rmse", resamples=300)
    rmse = [np.sqrt(mean_squared_error(y, s)) for s in (good, bad)]
    assert (got["candidate"], got["champion"]) == pytest.approx(rmse)
    assert got["improvement"] == pytest.approx(rmse[1] - rmse[0]) and got["improvement"] > 0
    assert got["higher_is_better"] is False and got["ci95"][0] > 0
    worse = paired_difference("regression", y, bad, good, metric="rmse", resamples=300)
    assert worse["ci95"][1] < 0


def test_past_max_rows_the_spread_is_scaled(rng: np.random.Generator) -> None:
    y, strong, weak = _binary(rng, 6000)
    full = paired_difference("binary", y, strong, weak, metric="roc_auc", resamples=400)
    sub = paired_difference(
        "binary", y, strong, weak, metric="roc_auc", resamples=400, max_rows=1500
    )
    assert sub["scaled"] and sub["bootstrap_rows"] == 1500
    assert sub["improvement"] == full["improvement"]
    width = [r["ci95"][1] - r["ci95"][0] for r in (full, sub)]
    assert width[1] == pytest.approx(width[0], rel=0.3)


@pytest.mark.parametrize(
    ("problem", "metric", "message"),
    [
        ("binary", "rmse", "not a metric of a binary model"),
        ("ranking", "roc_auc", "must be binary, multiclass or regression"),
    ],
)
def test_bad_arguments(problem: str, metric: str, message: str) -> None:
    y = np.array([0.0, 1.0, 1.0, 0.0])
    with pytest.raises(InvalidInput, match=message):
        paired_difference(problem, y, y, y, metric=metric)
    with pytest.raises(InvalidInput, match="a score for each"):
        paired_difference("binary", y, y[:3], y, metric="roc_auc")
