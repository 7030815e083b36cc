"""The anomaly detector of the model runtime: its score scale and its explanations."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from shipyard.errors import InvalidInput
from shipyard.model import AnomalyDetector


def planted(rng: np.random.Generator, n: int = 1000, column: int = 2) -> tuple[np.ndarray, ...]:
    """Gaussian rows, and 20 of them pushed far out in ``column`` alone."""
    x = rng.normal(size=(n, 4))
    odd = rng.choice(n, 20, replace=False)
    x[odd, column] += rng.choice([-7.0, 7.0], 20)
    y = np.zeros(n)
    y[odd] = 1
    return x, y, odd


@pytest.mark.parametrize("kind", ["isolation_forest", "lof"])
def test_planted_outliers_score_highest_on_a_zero_to_one_scale(
    rng: np.random.Generator, kind: str
) -> None:
    x, y, _ = planted(rng)
    detector = AnomalyDetector(kind, seed=0).fit(x[:700])
    scores = detector.score(x[700:])
    assert ((scores >= 0) & (scores <= 1)).all()
    assert roc_auc_score(y[700:], scores) > 0.97


def test_missing_values_are_filled_not_refused(rng: np.random.Generator) -> None:
    x, _, _ = planted(rng)
    detector = AnomalyDetector(categorical=[3]).fit(x)
    holey = x[:3].copy()
    holey[0, 0] = np.nan
    holey[1, 3] = np.nan  # a missing (or unseen) category: a code of its own, -1
    scores = detector.score(holey)
    assert np.isfinite(scores).all()
    assert detector.fill_[3] == -1.0 and detector.fill_[0] == pytest.approx(np.median(x[:, 0]))


@pytest.mark.parametrize("column", [0, 2, 3])
def test_occlusion_names_the_feature_an_outlier_is_odd_in(
    rng: np.random.Generator, column: int
) -> None:
    x, _, _ = planted(rng, column=column)
    detector = AnomalyDetector(seed=1).fit(x)
    row = np.zeros((1, 4))
    row[0, column] = 8.0
    contributions = detector.occlusion(np.vstack([row, np.zeros((1, 4))]))
    assert int(np.argmax(contributions[0])) == column
    assert contributions[0, column] > 0.1
    assert np.abs(contributions[1]).max() < contributions[0, column] / 5  # an ordinary row


def test_an_unknown_detector_is_refused(rng: np.random.Generator) -> None:
    with pytest.raises(InvalidInput, match=r"Unknown anomaly detector 'svm'.*isolation_forest"):
        AnomalyDetector("svm").fit(rng.normal(size=(50, 2)))


def test_lof_measures_distance_in_comparable_units(rng: np.random.Generator) -> None:
    x, y, _ = planted(rng, column=0)
    x[:, 1] *= 1e4  # a large-unit column that carries no anomaly must not drown column 0
    detector = AnomalyDetector("lof").fit(x[:700])
    assert roc_auc_score(y[700:], detector.score(x[700:])) > 0.97
    row = np.zeros((1, 4))
    row[0, 0] = 8.0
    assert int(np.argmax(detector.occlusion(row)[0])) == 0
