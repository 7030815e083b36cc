"""The drift tests on counts, checked against scipy's reference implementations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps
from scipy.spatial.distance import jensenshannon

from shipyard.monitor import _drift_tests as t


def test_holm_matches_the_step_down_definition() -> None:
    p = [0.01, 0.04, 0.03, 0.005, np.nan]
    # sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> monotone 0.06
    assert np.allclose(t.holm(p)[:4], [0.03, 0.06, 0.06, 0.02])
    assert np.isnan(t.holm(p)[4])


def test_chi_square_matches_scipy(rng: np.random.Generator) -> None:
    a = rng.integers(20, 200, 6)
    b = rng.integers(20, 200, 6)
    stat, p = t.chi2_homogeneity(a, b)
    ref = sps.chi2_contingency(np.column_stack([a, b]), correction=False)
    assert stat == pytest.approx(ref.statistic) and p == pytest.approx(ref.pvalue)


def test_chi_square_pools_rare_categories_instead_of_exploding() -> None:
    _, p = t.chi2_homogeneity([500, 400, 1, 0, 1], [480, 420, 0, 1, 1])
    assert p > 0.3  # three singletons pooled, not three huge terms


def test_ks_p_value_matches_scipy_asymptotic(rng: np.random.Generator) -> None:
    a, b = rng.normal(0, 1, 800), rng.normal(0.15, 1, 3000)
    ref = sps.ks_2samp(a, b, method="asymp")
    assert t.ks_pvalue(ref.statistic, a.size, b.size) == pytest.approx(ref.pvalue, rel=0.02)


def test_js_distance_is_scipy_base_2() -> None:
    p, q = np.array([10, 20, 70]), np.array([30, 30, 40])
    assert t.js_distance(p, q) == pytest.approx(jensenshannon(p / 100, q / 100, base=2))


def test_binned_wasserstein_matches_scipy_on_fine_bins(rng: np.random.Generator) -> None:
    a, b = rng.normal(0, 1, 50_000), rng.normal(0.3, 1.4, 50_000)
    edges = np.quantile(np.r_[a, b], np.linspace(0, 1, 401))
    f_a = np.searchsorted(np.sort(a), edges, "right") / a.size
    f_b = np.searchsorted(np.sort(b), edges, "right") / b.size
    exact = sps.wasserstein_distance(a, b)
    assert t.wasserstein_binned(edges, f_a, f_b) == pytest.approx(exact, rel=0.02)


def test_two_proportions() -> None:
    assert t.two_proportion_p(10, 1000, 10, 1000) == pytest.approx(1.0)
    assert t.two_proportion_p(10, 1000, 200, 1000) < 1e-10
