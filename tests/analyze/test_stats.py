from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from scipy.spatial.distance import jensenshannon
from sklearn.metrics import roc_auc_score

from shipyard.analyze import stats


@pytest.mark.parametrize("bins", [1, 7, 30])
def test_histogram_matches_numpy(rng, bins):
    x = np.round(rng.normal(size=10_001), 2)
    counts, edges = stats.histogram(x, bins)
    ref_counts, ref_edges = np.histogram(x, bins)
    np.testing.assert_array_equal(counts, ref_counts)
    np.testing.assert_allclose(edges, ref_edges)
    s_counts, s_edges = stats.sorted_histogram(np.sort(x), bins)
    np.testing.assert_array_equal(s_counts, ref_counts)
    np.testing.assert_allclose(s_edges, ref_edges)


def test_histogram_of_a_constant_is_one_bin():
    counts, edges = stats.histogram(np.full(5, 3.0))
    assert counts.tolist() == [5] and edges.tolist() == [3.0, 3.0]


@pytest.mark.parametrize("is_sorted", [False, True])
def test_quantiles_match_numpy(rng, is_sorted):
    x = rng.lognormal(size=5_001)
    qs = [0.0, 0.01, 0.25, 0.5, 0.75, 0.999, 1.0]
    got = stats.quantiles(np.sort(x) if is_sorted else x, qs, is_sorted=is_sorted)
    np.testing.assert_allclose(list(got.values()), np.quantile(x, qs), rtol=1e-12)
    assert list(got)[:3] == ["p0", "p1", "p25"]


@pytest.mark.parametrize("is_sorted", [False, True])
def test_iqr_outliers_counts_tukey_fences(rng, is_sorted):
    x = rng.normal(size=2_000)
    q1, q3 = np.quantile(x, [0.25, 0.75])
    iqr = q3 - q1
    want = int(np.sum((x < q1 - 1.5 * iqr) | (x > q3 + 1.5 * iqr)))
    got = stats.iqr_outliers(np.sort(x) if is_sorted else x, q1, q3, is_sorted=is_sorted)
    assert got == want > 0


def test_distinct_sorted(rng):
    x = rng.integers(0, 50, 1_000)
    assert stats.distinct_sorted(np.sort(x)) == np.unique(x).size
    assert stats.distinct_sorted(np.array([])) == 0


def test_kl_and_js_match_scipy(rng):
    p, q = rng.random(12), rng.random(12)
    assert stats.kl_divergence(p, q) == pytest.approx(sps.entropy(p, q))
    assert stats.js_divergence(p, q) == pytest.approx(jensenshannon(p, q) ** 2)
    assert stats.js_divergence(p, q) <= math.log(2)


def test_kl_is_infinite_on_a_missing_category_unless_smoothed():
    assert stats.kl_divergence([1, 1], [1, 0]) == math.inf
    assert math.isfinite(stats.kl_divergence([1, 1], [1, 0], eps=1e-6))
    assert stats.kl_divergence([1, 0], [1, 1]) == pytest.approx(math.log(2))


def test_lp_and_tvd_worked_example():
    p, q = [0.5, 0.5, 0.0], [0.25, 0.25, 0.5]
    assert stats.lp_distance(p, q) == pytest.approx(math.sqrt(0.25**2 * 2 + 0.5**2))
    assert stats.total_variation_distance(p, q) == pytest.approx(0.5)


def test_psi_worked_example():
    e, a = np.array([0.5, 0.5]), np.array([0.25, 0.75])
    want = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert stats.psi(e * 100, a * 40) == pytest.approx(want)
    assert stats.psi([1, 1], [1, 1]) == 0


def test_ks_matches_scipy(rng):
    a, b = rng.normal(size=700), rng.normal(0.3, 1.2, size=500)
    assert stats.ks_statistic(a, b) == pytest.approx(sps.ks_2samp(a, b).statistic)
    ties_a, ties_b = rng.integers(0, 5, 300), rng.integers(0, 6, 200)
    assert stats.ks_statistic(ties_a, ties_b) == pytest.approx(
        sps.ks_2samp(ties_a, ties_b).statistic
    )


def test_wilson_interval_worked_example():
    lo, hi = stats.wilson_interval(5, 10)
    assert (lo, hi) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))
    assert stats.wilson_interval(0, 0) == (0.0, 1.0)
    assert stats.wilson_interval(0, 20)[0] == 0.0


def test_rank_matches_scipy_with_ties_and_nan(rng):
    x = rng.integers(0, 20, 500).astype(float)
    x[::7] = np.nan
    got = stats.rank(x)
    ok = ~np.isnan(x)
    np.testing.assert_allclose(got[ok], sps.rankdata(x[ok]))
    assert np.isnan(got[~ok]).all()


def test_pairwise_pearson_matches_pandas_pairwise_complete(rng):
    x = rng.normal(size=(2_000, 4))
    x[:, 1] += 2 * x[:, 0]
    x[rng.random(x.shape) < 0.1] = np.nan
    got = stats.pairwise_pearson(x)
    np.testing.assert_allclose(got, pd.DataFrame(x).corr().to_numpy(), atol=1e-10)


def test_cramers_v_matches_scipy(rng):
    a = rng.integers(0, 4, 3_000)
    b = (a + rng.integers(0, 3, 3_000)) % 5
    table = pd.crosstab(a, b).to_numpy()
    want = sps.contingency.association(table, method="cramer")
    assert stats.cramers_v(a, b) == pytest.approx(want)
    assert stats.cramers_v(a, np.zeros_like(a)) == 0.0


def test_correlation_ratio_worked_example():
    codes = np.array([0, 0, 1, 1])
    values = np.array([1.0, 1.0, 3.0, 3.0])
    assert stats.correlation_ratio(codes, values) == pytest.approx(1.0)
    values = np.array([1.0, 3.0, 1.0, 3.0])
    assert stats.correlation_ratio(codes, values) == pytest.approx(0.0)


def test_auc_matches_sklearn(rng):
    y = rng.random(1_000) < 0.3
    s = np.round(rng.normal(size=1_000) + y, 1)  # rounded: ties count one half
    assert stats.auc(s, y) == pytest.approx(roc_auc_score(y, s))
    levels = rng.integers(0, 6, 1_000)
    rate = np.bincount(levels, weights=y) / np.bincount(levels)
    pos = np.bincount(levels, weights=y)
    neg = np.bincount(levels) - pos
    assert stats.auc_grouped(rate, pos, neg) == pytest.approx(roc_auc_score(y, rate[levels]))
    assert math.isnan(stats.auc(s, np.zeros(1_000, bool)))


def test_association_measures_ignore_gaps_and_large_codes(rng):
    a = rng.integers(0, 4, 2_000)
    b = (a + rng.integers(0, 2, 2_000)) % 4
    v = rng.normal(size=2_000) + a
    ref_v, ref_eta = stats.cramers_v(a, b), stats.correlation_ratio(a, v)
    assert stats.cramers_v(a * 7 + 3, b) == pytest.approx(ref_v)  # unused levels in between
    assert stats.cramers_v(a * 10**12, b) == pytest.approx(ref_v)  # codes too large to count
    assert stats.correlation_ratio(a * 5, v) == pytest.approx(ref_eta)


def test_pairwise_pearson_without_missing_matches_numpy(rng):
    x = rng.normal(size=(500, 5))
    x[:, 2] = x[:, 0] * 3 - x[:, 1]
    x[:, 4] = 1.0  # constant: no correlation defined
    got = stats.pairwise_pearson(x)
    np.testing.assert_allclose(got[:4, :4], np.corrcoef(x[:, :4].T), atol=1e-12)
    assert np.isnan(got[4]).all()


@pytest.mark.parametrize(
    ("values", "counts"),
    [
        pytest.param([-1e308, 0.0, 1e308], [1, 1, 1], id="range-past-the-largest-float"),
        pytest.param([-np.inf, 2.0, 4.0, np.inf], [1, 0, 1], id="infinities-in-no-bin"),
        pytest.param([np.inf, -np.inf], [], id="nothing-finite"),
    ],
)
def test_histograms_of_extreme_values(values, counts):
    x = np.array(values)
    for got, edges in (stats.histogram(x, 3), stats.sorted_histogram(np.sort(x), 3)):
        assert got.tolist() == counts
        assert len(edges) == (len(counts) + 1 if counts else 0)


def test_bin_edges_of_a_range_narrower_than_the_bins_are_fewer():
    edges = stats.bin_edges(1.0, np.nextafter(1.0, 2.0), 30)
    assert edges.tolist() == [1.0, np.nextafter(1.0, 2.0)]


def test_quantiles_between_plus_and_minus_1e308():
    x = np.array([-1e308, 1e308])
    for sorted_ in (True, False):
        q = stats.quantiles(x, (0.25, 0.5, 0.75), is_sorted=sorted_)
        assert q == {"p25": -5e307, "p50": 0.0, "p75": 5e307}


def test_pairwise_pearson_of_values_near_the_largest_float(rng):
    x = rng.normal(size=(200, 2))
    x[:, 1] = x[:, 0] + rng.normal(size=200)
    x[0, 0] = 17.0
    scale = np.array([1e307, 1.0])
    huge = x * scale  # up to 1.7e308
    huge[::7, 1] = np.nan
    for m in (huge, huge[~np.isnan(huge).any(axis=1)]):
        np.testing.assert_allclose(
            stats.pairwise_pearson(m), stats.pairwise_pearson(m / scale), rtol=1e-9
        )
