"""Vectorized statistics shared by profiling, bias and drift monitoring.

Every function takes NumPy arrays (already free of nulls unless stated) and returns plain
Python numbers or arrays, so callers can run them on a million rows without a Python loop.
Divergences use the natural logarithm, as SageMaker Clarify does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "auc",
    "auc_from_ranks",
    "auc_grouped",
    "bin_edges",
    "correlation_ratio",
    "cramers_v",
    "distinct_sorted",
    "histogram",
    "iqr_outliers",
    "js_divergence",
    "kl_divergence",
    "ks_statistic",
    "log_histogram",
    "lp_distance",
    "pairwise_pearson",
    "psi",
    "quantiles",
    "rank",
    "sorted_histogram",
    "total_variation_distance",
    "wilson_interval",
]

DEFAULT_QUANTILES: tuple[float, ...] = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


def bin_edges(lo: float, hi: float, bins: int = 30) -> NDArray[np.float64]:
    """``bins`` equal-width edges over the finite range ``[lo, hi]``, as ``np.histogram``'s.

    Unlike NumPy it never refuses a range: one wider than the largest float (``-1e308`` to
    ``1e308``) is spaced at half scale (exact in binary), and one too narrow to hold ``bins``
    distinct floats gets fewer bins.
    """
    if _overflows(lo, hi):
        edges = np.linspace(lo / 2, hi / 2, bins + 1) * 2
    else:
        edges = np.linspace(lo, hi, bins + 1)
    return np.unique(edges)


def _finite_range(values: NDArray[np.floating]) -> tuple[float, float] | None:
    finite = values[np.isfinite(values)] if not np.isfinite(values).all() else values
    return (float(finite.min()), float(finite.max())) if finite.size else None


def histogram(
    values: NDArray[np.floating], bins: int = 30, range_: tuple[float, float] | None = None
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Equal-width histogram ``(counts, edges)``, ``len(edges) == len(counts) + 1``.

    The range defaults to the finite values' (infinities fall in no bin); a constant input
    gets one bin; any finite range works (see :func:`bin_edges`). NaN must be removed first.
    """
    values = np.asarray(values, dtype=np.float64)
    span = range_ if range_ is not None else _finite_range(values)
    if values.size == 0 or span is None:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    lo, hi = span
    if not hi > lo:
        return np.array([np.count_nonzero(values == lo)], dtype=np.int64), np.array([lo, hi])
    edges = bin_edges(lo, hi, bins)
    if edges.size == bins + 1 and math.isfinite(hi - lo):
        return np.histogram(values, bins=bins, range=(lo, hi))  # NumPy's uniform fast path
    counts, edges = np.histogram(values, bins=edges)
    return counts, edges


def quantiles(
    values: NDArray[np.floating],
    qs: Sequence[float] = DEFAULT_QUANTILES,
    *,
    is_sorted: bool = False,
) -> dict[str, float]:
    """Exact quantiles (NumPy's default linear interpolation) keyed ``"p25"``-style.

    Pass ``is_sorted=True`` for an ascending array: the quantiles are then read off by index
    in microseconds instead of a partition of the whole array. Values whose differences
    overflow (``-1e308`` and ``1e308``) are interpolated at half scale, which is exact.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return {}
    if not is_sorted:
        half = _overflows(float(values.min()), float(values.max()))
        out = np.quantile(values / 2 if half else values, list(qs)) * (2 if half else 1)
        return {_qkey(q): float(v) for q, v in zip(qs, out, strict=True)}
    pos = np.asarray(qs, dtype=np.float64) * (values.size - 1)
    lo = np.floor(pos).astype(np.intp)
    hi = np.minimum(lo + 1, values.size - 1)
    frac = pos - lo
    a, b = values[lo], values[hi]
    half = _overflows(float(values[0]), float(values[-1]))
    if half:
        a, b = a / 2, b / 2
    out = (a + (b - a) * frac) * (2 if half else 1)
    out = np.where(frac == 0, values[lo], out)
    return {_qkey(q): float(v) for q, v in zip(qs, out, strict=True)}


def _overflows(lo: float, hi: float) -> bool:
    """Whether two finite floats are too far apart for ``hi - lo`` to be a float."""
    return math.isfinite(lo) and math.isfinite(hi) and not math.isfinite(hi - lo)


def sorted_histogram(
    sorted_values: NDArray[np.floating], bins: int = 30, range_: tuple[float, float] | None = None
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """:func:`histogram` of an ascending array by binary search: ``O(bins log n)``."""
    v = np.asarray(sorted_values, dtype=np.float64)
    if range_ is None:
        # The finite values lie between the infinities: two searches find them.
        first, end = np.searchsorted(v, -np.inf, "right"), np.searchsorted(v, np.inf, "left")
        range_ = (float(v[first]), float(v[end - 1])) if end > first else None
    if v.size == 0 or range_ is None:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    lo, hi = range_
    if not hi > lo:
        inside = np.searchsorted(v, lo, "right") - np.searchsorted(v, lo, "left")
        return np.array([inside], dtype=np.int64), np.array([lo, hi])
    edges = bin_edges(lo, hi, bins)
    cuts = np.searchsorted(v, edges, side="left")
    cuts[-1] = np.searchsorted(v, edges[-1], side="right")  # the last bin is closed
    return np.diff(cuts).astype(np.int64), edges


def log_histogram(
    sorted_values: NDArray[np.floating], bins: int = 30, *, skewness: float, min_skew: float = 2.0
) -> tuple[NDArray[np.int64], NDArray[np.float64]] | None:
    """Log-spaced bins of a heavy-tailed, non-negative ascending array; None for any other.

    Heavy-tailed: skewed (at least ``min_skew``) and the positive values span two decades or
    more, where equal-width bins put nearly every value in the first one. Zeros (which a log
    axis cannot show) are left out; the caller reports them. ``O(bins log n)`` by search.
    """
    v = np.asarray(sorted_values, dtype=np.float64)
    if v.size == 0 or not skewness >= min_skew or not v[0] >= 0:
        return None
    first = int(np.searchsorted(v, 0.0, "right"))
    if first >= v.size:
        return None
    lo, hi = float(v[first]), float(v[-1])
    if not (math.isfinite(hi) and hi >= 100 * lo):
        return None
    edges = np.unique(np.geomspace(lo, hi, bins + 1))
    edges[0], edges[-1] = lo, hi  # exact ends, not exp(log(x))
    cuts = np.searchsorted(v, edges, side="left")
    cuts[-1] = v.size  # the last bin is closed
    return np.diff(cuts).astype(np.int64), edges


def distinct_sorted(sorted_values: NDArray[Any]) -> int:
    """Number of distinct values in an ascending array (NaN-free)."""
    if sorted_values.size == 0:
        return 0
    return 1 + int(np.count_nonzero(sorted_values[1:] != sorted_values[:-1]))


def _qkey(q: float) -> str:
    pct = q * 100
    return f"p{int(pct)}" if float(pct).is_integer() else f"p{pct:g}"


def iqr_outliers(
    values: NDArray[np.floating], q1: float, q3: float, k: float = 1.5, *, is_sorted: bool = False
) -> int:
    """Count of values outside ``[q1 - k*IQR, q3 + k*IQR]`` (Tukey's fences)."""
    iqr = q3 - q1
    lo, hi = q1 - k * iqr, q3 + k * iqr
    if is_sorted:
        inside = np.searchsorted(values, hi, "right") - np.searchsorted(values, lo, "left")
        return int(values.size - inside)
    return int(np.count_nonzero((values < lo) | (values > hi)))


def _as_distribution(p: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(p, dtype=np.float64)
    total = arr.sum()
    return arr / total if total > 0 else arr


def kl_divergence(p: ArrayLike, q: ArrayLike, *, eps: float = 0.0) -> float:
    """Kullback-Leibler divergence ``sum p * ln(p / q)`` of two count or probability vectors.

    Terms with ``p == 0`` contribute 0. A category with ``p > 0`` and ``q == 0`` makes KL
    infinite; pass ``eps`` to add a small mass to every bin of both (then renormalized).
    """
    p_, q_ = _as_distribution(p), _as_distribution(q)
    if eps:
        p_, q_ = _as_distribution(p_ + eps), _as_distribution(q_ + eps)
    mask = p_ > 0
    if np.any(q_[mask] == 0):
        return math.inf
    return float(np.sum(p_[mask] * np.log(p_[mask] / q_[mask])))


def js_divergence(p: ArrayLike, q: ArrayLike) -> float:
    """Jensen-Shannon divergence ``(KL(p, m) + KL(q, m)) / 2`` with ``m = (p + q) / 2``.

    Natural log, so it lies in ``[0, ln 2]``. (``scipy.spatial.distance.jensenshannon``
    returns the square root of this.)
    """
    p_, q_ = _as_distribution(p), _as_distribution(q)
    m = (p_ + q_) / 2
    return 0.5 * (kl_divergence(p_, m) + kl_divergence(q_, m))


def lp_distance(p: ArrayLike, q: ArrayLike, order: float = 2) -> float:
    """Lp-norm of the difference of two distributions (Clarify's LP uses ``order=2``)."""
    return float(np.linalg.norm(_as_distribution(p) - _as_distribution(q), ord=order))


def total_variation_distance(p: ArrayLike, q: ArrayLike) -> float:
    """Half the L1 distance of two distributions, in ``[0, 1]``."""
    return float(0.5 * np.abs(_as_distribution(p) - _as_distribution(q)).sum())


def psi(expected: ArrayLike, actual: ArrayLike, *, eps: float = 1e-4) -> float:
    """Population stability index ``sum (a - e) * ln(a / e)`` over binned counts.

    Empty bins get ``eps`` of mass so a new or vanished category gives a large but finite
    value. Common reading: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 major shift.
    """
    e = np.maximum(_as_distribution(expected), eps)
    a = np.maximum(_as_distribution(actual), eps)
    return float(np.sum((a - e) * np.log(a / e)))


def ks_statistic(a: NDArray[np.floating], b: NDArray[np.floating]) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the empirical CDFs."""
    a = np.sort(np.asarray(a, dtype=np.float64))
    b = np.sort(np.asarray(b, dtype=np.float64))
    if a.size == 0 or b.size == 0:
        return math.nan
    grid = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, grid, side="right") / a.size
    cdf_b = np.searchsorted(b, grid, side="right") / b.size
    return float(np.max(np.abs(cdf_a - cdf_b)))


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval for a proportion (95% by default); ``(0, 1)`` when ``n == 0``."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def rank(values: NDArray[np.floating]) -> NDArray[np.float64]:
    """Average ranks (1-based, ties get their mean rank); NaN stays NaN."""
    values = np.asarray(values, dtype=np.float64)
    out = np.full(values.shape, np.nan)
    valid = ~np.isnan(values)
    v = values[valid]
    if v.size == 0:
        return out
    order = np.argsort(v)  # any sort will do: tied values share their average rank
    sorted_v = v[order]
    starts = np.empty(v.size, dtype=bool)
    starts[0] = True
    np.not_equal(sorted_v[1:], sorted_v[:-1], out=starts[1:])
    first = np.flatnonzero(starts)
    counts = np.diff(np.append(first, v.size))
    ranks = np.empty(v.size)
    ranks[order] = np.repeat(first + (counts + 1) / 2, counts)
    out[valid] = ranks
    return out


def pairwise_pearson(matrix: NDArray[np.floating]) -> NDArray[np.float64]:
    """Pearson correlation between the columns of ``matrix`` over pairwise-complete rows.

    NaN marks a missing value; each pair uses the rows where both are present, as
    ``pandas.DataFrame.corr`` does, but with a handful of matrix products instead of a loop
    over pairs. A pair with fewer than 3 rows or no variance gets NaN.
    """
    x = np.asarray(matrix, dtype=np.float64)
    # Correlation ignores scale: bring columns past 1e100 down by a power of two (exact),
    # so their squares and products do not overflow.
    peak = np.fmax.reduce(np.abs(x), axis=0, initial=0.0) if x.size else np.zeros(0)
    big = peak > 1e100
    if big.any():
        x = x.copy()
        x[:, big] *= np.ldexp(1.0, -np.frexp(peak[big])[1])
    valid = ~np.isnan(x)
    if valid.all() and x.shape[0] >= 3:
        # No missing value: one product of standardized columns.
        z = x - x.mean(axis=0)
        norms = np.sqrt(np.einsum("ij,ij->j", z, z))
        with np.errstate(invalid="ignore", divide="ignore"):
            z /= norms
            corr = z.T @ z
        corr[~np.isfinite(corr)] = np.nan
        return np.clip(corr, -1.0, 1.0, out=corr)
    w = valid.astype(np.float64)
    # Centre by column means first: the sums below then suffer no catastrophic cancellation.
    means = np.nanmean(np.where(valid, x, np.nan), axis=0) if x.size else np.zeros(x.shape[1])
    means = np.nan_to_num(means)
    x0 = np.where(valid, x - means, 0.0)
    n = w.T @ w
    sx = x0.T @ w  # sx[i, j]: sum of column i over rows where j is present too
    sxx = (x0 * x0).T @ w
    sxy = x0.T @ x0
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sx.T / n
        var_i = sxx - sx * sx / n
        corr = cov / np.sqrt(var_i * var_i.T)
    corr[(n < 3) | ~np.isfinite(corr)] = np.nan
    np.clip(corr, -1.0, 1.0, out=corr)
    return corr


def _dense(codes: NDArray[np.int64]) -> NDArray[np.int64]:
    """Small non-negative codes as they are (a bincount is cheaper than a sort), else ranks."""
    if codes.min() >= 0 and codes.max() < 4 * codes.size + 1024:
        return codes
    return np.unique(codes, return_inverse=True)[1].astype(np.int64)


def cramers_v(codes_a: NDArray[np.integer], codes_b: NDArray[np.integer]) -> float:
    """Cramér's V between two categorical code arrays (non-negative ints, no missing).

    ``sqrt(chi2 / (n * (min(r, c) - 1)))`` without bias correction, in ``[0, 1]``; 0 when
    either side has a single level.
    """
    a = np.asarray(codes_a, dtype=np.int64)
    b = np.asarray(codes_b, dtype=np.int64)
    if a.size == 0:
        return math.nan
    a, b = _dense(a), _dense(b)
    r, c = int(a.max()) + 1, int(b.max()) + 1
    table = np.bincount(a * c + b, minlength=r * c).reshape(r, c).astype(np.float64)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]  # levels that occur
    r, c = table.shape
    if r < 2 or c < 2:
        return 0.0
    n = table.sum()
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    chi2 = float(np.sum((table - expected) ** 2 / expected))
    return float(math.sqrt(chi2 / (n * (min(r, c) - 1))))


def correlation_ratio(codes: NDArray[np.integer], values: NDArray[np.floating]) -> float:
    """Correlation ratio η between a categorical (codes) and a numeric variable, in [0, 1].

    ``sqrt(between-group sum of squares / total sum of squares)``; η² is the share of the
    numeric variance that the categories explain.
    """
    codes = np.asarray(codes, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return math.nan
    codes = _dense(np.asarray(codes, dtype=np.int64))
    counts = np.bincount(codes)
    sums = np.bincount(codes, weights=values)
    occur = counts > 0
    counts, sums = counts[occur], sums[occur]
    mean = values.mean()
    total = float(np.sum((values - mean) ** 2))
    if total == 0:
        return 0.0
    between = float(np.sum(counts * (sums / counts - mean) ** 2))
    return float(math.sqrt(min(1.0, between / total)))


def auc(scores: NDArray[np.floating], positive: NDArray[np.bool_]) -> float:
    """Area under the ROC curve of ``scores`` for the boolean labels ``positive``.

    Computed from average ranks (the Mann-Whitney U statistic), so ties count one half.
    NaN when either class is empty.
    """
    return auc_from_ranks(rank(scores), positive)


def auc_from_ranks(ranks: NDArray[np.floating], positive: NDArray[np.bool_]) -> float:
    """:func:`auc` given the average ranks of the scores (1-based, over exactly these rows)."""
    positive = np.asarray(positive, dtype=bool)
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    u = float(np.asarray(ranks)[positive].sum()) - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


def auc_grouped(scores: ArrayLike, positives: ArrayLike, negatives: ArrayLike) -> float:
    """:func:`auc` when rows come in groups sharing one score (e.g. a categorical level).

    Args:
        scores: The score of each group.
        positives: Positive rows per group.
        negatives: Negative rows per group.
    """
    _, inv = np.unique(np.asarray(scores, dtype=np.float64), return_inverse=True)
    pos = np.bincount(inv, weights=positives)
    neg = np.bincount(inv, weights=negatives)
    n_pos, n_neg = pos.sum(), neg.sum()
    if n_pos == 0 or n_neg == 0:
        return math.nan
    neg_below = np.cumsum(neg) - neg
    return float(np.sum(pos * (neg_below + 0.5 * neg)) / (n_pos * n_neg))
