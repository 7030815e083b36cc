"""Per-column drift from a side's sample and counts: which test, its numbers, its verdict."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from shipyard.analyze import stats
from shipyard.monitor import _drift_tests as t
from shipyard.monitor._scan import ColumnPlan, Counts

__all__ = ["DISCRETE_LEVELS", "Evaluation", "boundaries_for", "evaluate", "is_discrete"]

DISCRETE_LEVELS = 10
"""A number with at most this many distinct values (in both samples) is compared as categories,
as Evidently does: a KS test or a Wasserstein distance on a handful of values says less than
their frequencies do."""
MISSING = "(missing)"
_PLOT_CATEGORIES = 20


@dataclass
class Evaluation:
    """One column's test before the correction across columns decides."""

    column: str
    kind: str
    test: str
    statistic: float
    p_value: float
    distance: float
    threshold: float
    uses_distance: bool
    reference: dict[str, Any]
    current: dict[str, Any]
    plot: dict[str, Any]
    missing_p: float | None = None
    notes: list[str] = field(default_factory=list)


def _values(column: Any) -> NDArray[Any]:
    arr = column.to_numpy(zero_copy_only=False)
    return arr


def _finite(column: Any) -> NDArray[np.float64]:
    arr = np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
    return arr[np.isfinite(arr)]


def is_discrete(ref_sample: Any, cur_sample: Any | None) -> bool:
    """Whether a numeric column has few enough distinct values to compare as categories
    (judged on both samples, or on the reference's when the current one is not drawn yet)."""
    parts = [_finite(s) for s in (ref_sample, cur_sample) if s is not None]
    return np.unique(np.concatenate(parts)).size <= DISCRETE_LEVELS


def boundaries_for(
    ref_sample: Any, cur_sample: Any | None, small_sides: list[Any]
) -> NDArray[np.float64]:
    """Histogram boundaries of a number: each sample's percentiles (the reference's alone when
    the current sample is not drawn yet) and, for a side small enough to be tested exactly,
    each of its values and the float just below it (so the KS statistic read at the
    boundaries is exact)."""
    qs = np.linspace(0, 1, 101)
    finite = [_finite(s) for s in (ref_sample, cur_sample) if s is not None]
    parts = [np.quantile(s, qs) for s in finite if s.size]
    for side in small_sides:
        v = np.unique(_finite(side))
        parts += [v, np.nextafter(v, -np.inf)]
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0)


def _bin_counts(counts: Counts, bounds: NDArray[np.float64]) -> NDArray[np.float64]:
    if counts.bins is None:
        return np.zeros(bounds.size + 1)
    return counts.bins.astype(np.float64)


def _cdf(counts: Counts, bounds: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.cumsum(_bin_counts(counts, bounds)[:-1]) / max(counts.nonnull, 1)


def _numeric(
    plan: ColumnPlan,
    samples: tuple[Any, Any],
    counts: tuple[Counts, Counts],
    rows: tuple[int, int],
    bounds: NDArray[np.float64],
) -> Evaluation:
    ref, cur = counts
    small = min(rows) <= t.SMALL_SAMPLE
    f_ref, f_cur = _cdf(ref, bounds), _cdf(cur, bounds)
    n_r, n_c = max(ref.nonnull, 1), max(cur.nonnull, 1)
    # Inside the boundaries the CDFs' gap is integrated bin by bin; beyond them each side's
    # CDF encloses an area known exactly from the scan (below, above).
    w = (
        t.wasserstein_binned(bounds, f_ref, f_cur)
        + abs(ref.below / n_r - cur.below / n_c)
        + abs(ref.above / n_r - cur.above / n_c)
    )
    scale = next((s for s in (ref.std, cur.std) if s and s > 0 and math.isfinite(s)), 1.0)
    distance = w / scale
    if small and max(rows) <= t.SMALL_SAMPLE:
        a, b = _finite(samples[0]), _finite(samples[1])
        statistic = stats.ks_statistic(a, b) if a.size and b.size else 0.0
        test, p = "ks", t.ks_pvalue(statistic, a.size, b.size)
    elif small:
        statistic = t.ks_from_cdfs(f_ref, f_cur)
        test, p = "ks", t.ks_pvalue(statistic, ref.nonnull, cur.nonnull)
    else:
        _, p = t.chi2_homogeneity(*_reference_bins(samples[0], (ref, cur), bounds))
        test, statistic = "wasserstein", distance
    missing_p = t.two_proportion_p(rows[0] - ref.nonnull, rows[0], rows[1] - cur.nonnull, rows[1])
    return Evaluation(
        column=plan.name,
        kind="numeric",
        test=test,
        statistic=statistic,
        p_value=p,
        distance=distance,
        threshold=t.ALPHA if small else t.WASSERSTEIN_THRESHOLD,
        uses_distance=not small,
        reference=_numeric_summary(ref, rows[0]),
        current=_numeric_summary(cur, rows[1]),
        plot=_density_plot(samples, counts, bounds, f_ref, f_cur),
        missing_p=missing_p,
    )


def _reference_bins(
    ref_sample: Any, counts: tuple[Counts, Counts], bounds: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Both sides' counts on the reference sample's percentile bins, for the noise test.

    Bins drawn from the reference alone do not depend on the current side, so the test
    keeps its size (bins cut at the current side's own percentiles would not).
    """
    edges = np.unique(np.quantile(_finite(ref_sample), np.linspace(0, 1, 101)))
    idx = np.searchsorted(bounds, edges)
    out = []
    for c in counts:
        cum = np.r_[0.0, np.cumsum(_bin_counts(c, bounds))]
        at = cum[np.r_[0, idx + 1, bounds.size + 1]]
        out.append(np.diff(at))
    return out[0], out[1]


def _numeric_summary(counts: Counts, rows: int) -> dict[str, Any]:
    return {
        "rows": rows,
        "count": counts.nonnull,
        "missing_share": 1 - counts.nonnull / rows if rows else 0.0,
        "mean": counts.mean,
        "std": counts.std,
        "min": counts.minimum,
        "max": counts.maximum,
    }


def _density_plot(
    samples: tuple[Any, Any],
    counts: tuple[Counts, Counts],
    bounds: NDArray[np.float64],
    f_ref: NDArray[np.float64],
    f_cur: NDArray[np.float64],
) -> dict[str, Any]:
    """Densities on about 25 bins: every 4th percentile of the reference, widened to the
    smallest and largest value of either side (the outer bins hold what lies beyond)."""
    ref = _finite(samples[0])
    if not ref.size or not bounds.size:
        return {"type": "density", "edges": [], "reference": [], "current": []}
    inner = np.unique(np.quantile(ref, np.linspace(0, 1, 26)))
    idx = np.unique(np.clip(np.searchsorted(bounds, inner), 0, bounds.size - 1))
    lows = [v for v in (counts[0].minimum, counts[1].minimum) if v is not None]
    highs = [v for v in (counts[0].maximum, counts[1].maximum) if v is not None]
    lo, hi = min([*lows, float(bounds[idx[0]])]), max([*highs, float(bounds[idx[-1]])])
    edges = np.r_[lo, bounds[idx], hi]
    width = np.diff(edges)
    dens = []
    for f in (f_ref, f_cur):
        cdf = np.r_[0.0, f[idx], 1.0]
        mass = np.diff(cdf)
        dens.append(np.where(width > 0, mass / np.where(width > 0, width, 1), 0.0).tolist())
    return {"type": "density", "edges": edges.tolist(), "reference": dens[0], "current": dens[1]}


def _category_counts(counts: Counts, rows: int, plan: ColumnPlan) -> dict[str, int]:
    out: dict[str, int] = {}
    for key, n in counts.values.items():
        label = _label(key, plan)
        out[label] = out.get(label, 0) + int(n)
    if rows - counts.nonnull:
        out[MISSING] = rows - counts.nonnull
    return out


def _label(key: Any, plan: ColumnPlan) -> str:
    if plan.kind == "numeric" and isinstance(key, float) and key.is_integer():
        return str(int(key))
    return str(key)


def _categorical(
    plan: ColumnPlan, counts: tuple[Counts, Counts], rows: tuple[int, int]
) -> Evaluation:
    ref = _category_counts(counts[0], rows[0], plan)
    cur = _category_counts(counts[1], rows[1], plan)
    labels = sorted(set(ref) | set(cur), key=lambda k: (-ref.get(k, 0), -cur.get(k, 0), k))
    a = np.array([ref.get(k, 0) for k in labels], dtype=np.float64)
    b = np.array([cur.get(k, 0) for k in labels], dtype=np.float64)
    stat, p = t.chi2_homogeneity(a, b)
    distance = t.js_distance(a, b)
    small = min(rows) <= t.SMALL_SAMPLE
    share_a, share_b = a / max(a.sum(), 1), b / max(b.sum(), 1)
    notes = _category_notes(labels, share_a, share_b)
    top = np.argsort(-np.maximum(share_a, share_b), kind="stable")[:_PLOT_CATEGORIES]
    plot = {
        "type": "categories",
        "labels": [labels[i] for i in top],
        "reference": [float(share_a[i]) for i in top],
        "current": [float(share_b[i]) for i in top],
        "others": len(labels) - len(top),
    }
    return Evaluation(
        column=plan.name,
        kind=plan.kind,
        test="chi_square" if small else "jensen_shannon",
        statistic=stat if small else distance,
        p_value=p,
        distance=distance,
        threshold=t.ALPHA if small else t.JS_THRESHOLD,
        uses_distance=not small,
        reference={
            "rows": rows[0],
            "categories": len(ref),
            "missing_share": _missing(ref, rows[0]),
        },
        current={"rows": rows[1], "categories": len(cur), "missing_share": _missing(cur, rows[1])},
        plot=plot,
        notes=notes,
    )


def _missing(counts: dict[str, int], rows: int) -> float:
    return counts.get(MISSING, 0) / rows if rows else 0.0


def _category_notes(
    labels: list[str], share_a: NDArray[np.float64], share_b: NDArray[np.float64]
) -> list[str]:
    """The biggest move in share, and the categories new in the current side."""
    notes = []
    if labels:
        i = int(np.argmax(np.abs(share_b - share_a)))
        notes.append(f"'{labels[i]}' {100 * share_a[i]:.1f}% -> {100 * share_b[i]:.1f}%")
    new = [k for k, x, y in zip(labels, share_a, share_b, strict=True) if x == 0 and y > 0]
    if new:
        shown = ", ".join(f"'{k}'" for k in new[:3]) + (" ..." if len(new) > 3 else "")
        notes.append(f"{len(new)} new ({shown}: {100 * share_b[share_a == 0].sum():.1f}%)")
    return notes


def evaluate(
    plan: ColumnPlan,
    samples: tuple[Any, Any],
    counts: tuple[Counts, Counts],
    rows: tuple[int, int],
    bounds: NDArray[np.float64] | None,
) -> Evaluation:
    """The column's test, statistic, raw p-value and effect size (no verdict yet)."""
    if bounds is None:
        return _categorical(plan, counts, rows)
    return _numeric(plan, samples, counts, rows, bounds)
