"""Multiclass metrics of float32 scores: no scikit-learn warning reaches the user."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from shipyard.evaluation import evaluate


def test_float32_probabilities_give_log_loss_without_a_warning() -> None:
    rng = np.random.default_rng(8)
    p32 = rng.dirichlet([1.0, 1.0, 1.0], size=2000).astype(np.float32)
    # Rows of float32 probabilities sum to 0.99999994 or 1.0000001 once read as float64,
    # past the tolerance of scikit-learn's "y_prob values do not sum to one" check.
    scores = p32.astype(np.float64)
    assert not np.allclose(scores.sum(axis=1), 1, rtol=1e-8, atol=0)
    y = rng.integers(0, 3, size=2000)
    got = evaluate("multiclass", y, scores)  # filterwarnings=error: a warning fails the test
    exact = scores / scores.sum(axis=1, keepdims=True)
    assert got["log_loss"] == pytest.approx(skm.log_loss(y, exact, labels=[0, 1, 2]))
    assert got["rows"] == 2000
