"""The drift tests on counts: KS, chi-square, normalized Wasserstein, Jensen-Shannon, Holm.

Everything here works on small arrays (bin counts, CDFs at boundaries, category counts), so a
column of ten million rows costs what its histogram costs. How a test is chosen:

- Either side has at most :data:`SMALL_SAMPLE` rows: a hypothesis test, as Evidently does:
  two-sample Kolmogorov-Smirnov for numbers, chi-square test of homogeneity for categories.
  A column drifts when its Holm-adjusted p-value is below :data:`ALPHA`.
- Both sides larger: a distance with an effect-size threshold, because on a million rows every
  p-value is tiny. Numbers: Wasserstein-1 divided by the reference's standard deviation
  (0.1 = the whole distribution moved by a tenth of a standard deviation: a mean shift of
  0.1 SD, a standard deviation 12% larger). Categories: Jensen-Shannon distance, base 2, in
  [0, 1] (0.1 ~ a 12-point swing of a 50/50 split). The distance alone would flag the noise of
  a few thousand rows spread over many categories, so the column must also pass the same
  chi-square test (Holm-adjusted) on its bins: a drift must be large *and* real.

Holm's step-down Bonferroni controls the chance of any false alarm across the columns at
:data:`ALPHA` (family-wise), and is uniformly more powerful than plain Bonferroni.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from shipyard.analyze import stats

__all__ = [
    "ALPHA",
    "JS_THRESHOLD",
    "MISSING_THRESHOLD",
    "SMALL_SAMPLE",
    "WASSERSTEIN_THRESHOLD",
    "chi2_homogeneity",
    "holm",
    "js_distance",
    "ks_from_cdfs",
    "ks_pvalue",
    "two_proportion_p",
    "wasserstein_binned",
]

ALPHA = 0.05
"""Family-wise error rate across the columns of one comparison."""
SMALL_SAMPLE = 1000
"""At or below this many rows on either side, tests decide; above, distances do."""
WASSERSTEIN_THRESHOLD = 0.1
"""Wasserstein-1 distance in reference standard deviations at which a number drifts."""
JS_THRESHOLD = 0.1
"""Jensen-Shannon distance (base 2, in [0, 1]) at which a category distribution drifts."""
MISSING_THRESHOLD = 0.1
"""Change in a number's share of missing values (10 points) that is a drift by itself."""
_MIN_EXPECTED = 5.0


def holm(p_values: ArrayLike) -> NDArray[np.float64]:
    """Holm-adjusted p-values (step-down Bonferroni), in the input order; NaN stays NaN."""
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    m = valid.size
    if m == 0:
        return out
    order = valid[np.argsort(p[valid], kind="stable")]
    scaled = p[order] * (m - np.arange(m))
    out[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return out


def _pool_sparse(table: NDArray[np.float64]) -> NDArray[np.float64]:
    """Merge the rows (categories) whose expected count is under 5 into one row.

    The chi-square approximation needs expected counts of about 5; rare categories pooled
    keep their combined weight instead of being dropped. A pooled row still too small joins
    the smallest remaining row.
    """
    totals = table.sum(axis=1)
    share = table.sum(axis=0) / table.sum()
    sparse = totals * share.min() < _MIN_EXPECTED
    if not sparse.any() or sparse.all():
        return table  # nothing to pool, or everything small: the test is approximate
    pooled = table[sparse].sum(axis=0, keepdims=True)
    rest = table[~sparse]
    if pooled.sum() * share.min() < _MIN_EXPECTED:
        smallest = int(np.argmin(rest.sum(axis=1)))
        rest = rest.copy()
        rest[smallest] += pooled[0]
        return rest
    return np.vstack([rest, pooled])


def chi2_homogeneity(counts_a: ArrayLike, counts_b: ArrayLike) -> tuple[float, float]:
    """Chi-square test that two count vectors over the same categories share a distribution.

    Categories empty on both sides are ignored and sparse ones pooled (expected count < 5).
    Returns ``(statistic, p_value)``; ``(0, 1)`` when fewer than two categories remain.
    """
    from scipy.special import chdtrc

    table = np.column_stack(
        [np.asarray(counts_a, dtype=np.float64), np.asarray(counts_b, dtype=np.float64)]
    )
    table = table[table.sum(axis=1) > 0]
    if table.shape[0] < 2 or (table.sum(axis=0) == 0).any():
        return 0.0, 1.0
    table = _pool_sparse(table)
    if table.shape[0] < 2:
        return 0.0, 1.0
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    return statistic, float(chdtrc(table.shape[0] - 1, statistic))


def ks_from_cdfs(cdf_a: ArrayLike, cdf_b: ArrayLike) -> float:
    """The KS statistic from two CDFs evaluated at the same points (exact when the points
    include every value of the smaller sample and the value just below each)."""
    a, b = np.asarray(cdf_a, dtype=np.float64), np.asarray(cdf_b, dtype=np.float64)
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def ks_pvalue(statistic: float, n: int, m: int) -> float:
    """Two-sample KS p-value for ``statistic`` with ``n`` and ``m`` rows.

    As scipy's ``ks_2samp(method="asymp")``: the one-sample distribution at ``n*m/(n+m)``
    rows, here as twice the exact one-sided tail (Smirnov), which equals the two-sided tail
    to three digits wherever p < 0.1 and is conservative above.
    """
    from scipy.special import smirnov  # scipy.stats alone takes half a second to import

    if n == 0 or m == 0:
        return 1.0
    effective = max(1, round(n * m / (n + m)))
    return float(min(1.0, max(0.0, 2 * smirnov(effective, statistic))))


def wasserstein_binned(boundaries: ArrayLike, cdf_a: ArrayLike, cdf_b: ArrayLike) -> float:
    """Wasserstein-1 distance ``integral |F_a - F_b| dx`` from CDFs at ascending boundaries.

    The boundaries must span both samples (first = smallest value, last = largest); between
    two boundaries the CDF gap is taken as the mean of its two ends (trapezoid rule), which
    is exact for a linear gap and unbiased when the two samples share a distribution.
    """
    x = np.asarray(boundaries, dtype=np.float64)
    gap = np.abs(np.asarray(cdf_a, dtype=np.float64) - np.asarray(cdf_b, dtype=np.float64))
    if x.size < 2:
        return 0.0
    return float(np.sum(np.diff(x) * (gap[1:] + gap[:-1]) / 2))


def js_distance(counts_a: ArrayLike, counts_b: ArrayLike) -> float:
    """Jensen-Shannon distance, base 2: ``sqrt(JS divergence / ln 2)``, in [0, 1].

    The same as ``scipy.spatial.distance.jensenshannon(p, q, base=2)``; the divergence is
    :func:`shipyard.analyze.stats.js_divergence` (natural log).
    """
    a, b = np.asarray(counts_a, dtype=np.float64), np.asarray(counts_b, dtype=np.float64)
    if a.sum() == 0 or b.sum() == 0:
        return 0.0
    return float(math.sqrt(max(0.0, stats.js_divergence(a, b)) / math.log(2)))


def two_proportion_p(k_a: int, n_a: int, k_b: int, n_b: int) -> float:
    """Two-sided p-value that two proportions ``k/n`` are equal (pooled z-test)."""
    from scipy.special import ndtr

    if n_a == 0 or n_b == 0:
        return 1.0
    pooled = (k_a + k_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:
        return 1.0
    z = abs(k_a / n_a - k_b / n_b) / se
    return float(2 * ndtr(-z))
