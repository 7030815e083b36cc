"""Metrics on weighted rows, and bootstrap confidence intervals computed with them.

Every metric here takes a weight matrix ``w`` of shape (resamples, rows) and returns one value
per row of ``w``: a row of ones is the plain metric, a row of draw counts (how many times a
resample with replacement picked each row) is one bootstrap resample. So a whole bootstrap
is a few matrix products and cumulative sums, with no Python loop over rows
or resamples beyond fixed-size chunks that bound memory.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = [
    "BINARY_STATS",
    "MULTICLASS_STATS",
    "REGRESSION_STATS",
    "binary_stats",
    "bootstrap",
    "multiclass_stats",
    "regression_stats",
]

Stats = Callable[[np.ndarray], dict[str, np.ndarray]]

_EPS = 1e-15
_CHUNK = 50  # resamples per chunk: (chunk, rows) float32 matrices stay a few MB

BINARY_STATS = (
    "roc_auc",
    "pr_auc",
    "log_loss",
    "brier",
    "precision",
    "recall",
    "f1",
    "accuracy",
    "alert_rate",
)
MULTICLASS_STATS = ("log_loss", "accuracy", "macro_f1")
REGRESSION_STATS = ("rmse", "mae", "r2")

# Where a metric can lie; a scaled interval near an edge is cut there. Others are shares.
_RANGE = {
    "log_loss": (0.0, np.inf),
    "rmse": (0.0, np.inf),
    "mae": (0.0, np.inf),
    "r2": (-np.inf, 1.0),
}


def binary_stats(
    y: np.ndarray, scores: np.ndarray, threshold: float, order: np.ndarray | None = None
) -> Stats:
    """Weighted ROC AUC, average precision, log loss, Brier, and the threshold's metrics.

    AUC counts tied scores as half a win and average precision steps once per distinct
    score, as scikit-learn's ``roc_auc_score`` and ``average_precision_score`` do.
    ``order`` is the rows from the highest score down, when the caller has it already.
    """
    if order is None:
        order = np.argsort(-scores, kind="stable")
    y_sorted = y[order]
    s_sorted = scores[order]
    starts = np.r_[0, np.flatnonzero(np.diff(s_sorted)) + 1]  # groups of tied scores
    p = np.clip(scores, _EPS, 1 - _EPS)
    row_loss = -(y * np.log(p) + (1 - y) * np.log1p(-p))
    row_sq = (scores - y) ** 2
    flagged = scores >= threshold
    hit = (y * flagged).astype(np.float64)
    alarm = ((1 - y) * flagged).astype(np.float64)
    miss = (y * ~flagged).astype(np.float64)

    ties = len(starts) < len(scores)

    def stats(w: np.ndarray) -> dict[str, np.ndarray]:
        total = w.sum(axis=1)
        w_all = w[:, order]
        w_pos = w_all * y_sorted
        if ties:
            w_all = np.add.reduceat(w_all, starts, axis=1)
            w_pos = np.add.reduceat(w_pos, starts, axis=1)
        seen = np.cumsum(w_all, axis=1)  # rows scored at or above each distinct score
        tp = np.cumsum(w_pos, axis=1)
        pos = tp[:, -1]
        neg = seen[:, -1] - pos
        with np.errstate(divide="ignore", invalid="ignore"):
            # A positive beats every negative scored lower and half of those tied with it:
            # sum over groups of pos_g * (neg - fp_g + neg_g / 2), with fp_g = seen_g - tp_g.
            tied = np.sum(w_pos * (w_all - w_pos), axis=1)
            above = np.sum(w_pos * (seen - tp), axis=1)
            auc = (pos * neg - above + 0.5 * tied) / (pos * neg)
            ap = np.sum(w_pos * tp / np.maximum(seen, _EPS), axis=1) / pos
            t_p, f_p, f_n = _dot(w, hit), _dot(w, alarm), _dot(w, miss)
            return {
                "roc_auc": auc,
                "pr_auc": ap,
                "log_loss": (_dot(w, row_loss)) / total,
                "brier": (_dot(w, row_sq)) / total,
                "precision": t_p / (t_p + f_p),
                "recall": t_p / (t_p + f_n),
                "f1": 2 * t_p / (2 * t_p + f_p + f_n),
                "accuracy": 1 - (f_p + f_n) / total,
                "alert_rate": (t_p + f_p) / total,
            }

    return stats


def multiclass_stats(y: np.ndarray, scores: np.ndarray) -> Stats:
    """Weighted log loss, accuracy and macro F1 (over classes seen in truth or prediction)."""
    k = scores.shape[1]
    truth = y.astype(np.int64)
    predicted = np.argmax(scores, axis=1)
    picked = scores[np.arange(len(truth)), truth]
    row_loss = -np.log(np.clip(picked, _EPS, 1))
    correct = (predicted == truth).astype(np.float64)
    onehot_true = np.eye(k)[truth]
    onehot_pred = np.eye(k)[predicted]
    both = onehot_true * onehot_pred

    def stats(w: np.ndarray) -> dict[str, np.ndarray]:
        total = w.sum(axis=1)
        tp, support, called = _dot(w, both), _dot(w, onehot_true), _dot(w, onehot_pred)
        with np.errstate(divide="ignore", invalid="ignore"):
            f1 = np.where(support + called > 0, 2 * tp / (support + called), np.nan)
            seen = np.sum(support + called > 0, axis=1)
            return {
                "log_loss": (_dot(w, row_loss)) / total,
                "accuracy": (_dot(w, correct)) / total,
                "macro_f1": np.nansum(f1, axis=1) / seen,
            }

    return stats


def regression_stats(y: np.ndarray, predicted: np.ndarray) -> Stats:
    """Weighted RMSE, MAE and R²."""
    err = predicted - y
    sq, absolute, y_sq = err**2, np.abs(err), y**2

    def stats(w: np.ndarray) -> dict[str, np.ndarray]:
        total = w.sum(axis=1)
        sse = _dot(w, sq)
        sst = _dot(w, y_sq) - (_dot(w, y)) ** 2 / total
        with np.errstate(divide="ignore", invalid="ignore"):
            return {
                "rmse": np.sqrt(sse / total),
                "mae": (_dot(w, absolute)) / total,
                "r2": 1 - sse / sst,
            }

    return stats


def bootstrap(
    make_stats: Callable[[np.ndarray | None], Stats],
    rows: int,
    *,
    resamples: int = 200,
    max_rows: int = 20_000,
    seed: int = 0,
) -> tuple[dict[str, dict[str, float | list[float] | None]], dict[str, object]]:
    """Point estimates on all rows and 95% bootstrap intervals, with their method.

    ``make_stats(rows)`` builds the metric function of a subset of rows (None: all). Past
    ``max_rows`` the bootstrap runs on a seeded random subset of that many rows and its
    spread is scaled by sqrt(subset / rows), the 1/sqrt(n) rate of these smooth metrics: the
    interval of a million rows then costs what 20,000 rows cost.

    Returns:
        ``{metric: {"value": v, "ci95": [lo, hi] or None}}`` and the method's description.
    """
    rng = np.random.default_rng(seed)
    everything = np.arange(rows)
    point = {k: float(v[0]) for k, v in make_stats(None)(np.ones((1, rows))).items()}
    subset = everything if rows <= max_rows else np.sort(rng.choice(rows, max_rows, False))
    m = len(subset)
    stats = make_stats(subset)
    centre = point if m == rows else {k: float(v[0]) for k, v in stats(np.ones((1, m))).items()}
    draws: dict[str, list[np.ndarray]] = {k: [] for k in point}
    for start in range(0, resamples, _CHUNK):
        for key, values in stats(_resample_counts(rng, min(_CHUNK, resamples - start), m)).items():
            draws[key].append(values)
    scale = np.sqrt(m / rows)
    out: dict[str, dict[str, float | list[float] | None]] = {}
    for key, value in point.items():
        spread = np.concatenate(draws[key]) - centre[key]
        spread = spread[np.isfinite(spread)]
        if not np.isfinite(value) or len(spread) < 0.9 * resamples:
            out[key] = {"value": _finite(value), "ci95": None}
            continue
        lo, hi = value + scale * np.quantile(spread, [0.025, 0.975])
        floor, ceiling = _RANGE.get(key, (0.0, 1.0))
        # A skewed statistic on a tiny sample can put its estimate just outside the
        # percentile interval; an interval is read as containing it.
        lo, hi = max(min(lo, value), floor), min(max(hi, value), ceiling)
        out[key] = {"value": value, "ci95": [float(lo), float(hi)]}
    method = {
        "method": "bootstrap, percentile 95%",
        "resamples": resamples,
        "rows": m,
        "seed": seed,
        "scaled": m < rows,
    }
    return out, method


def _dot(w: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``w @ values`` without BLAS, whose thread start-up costs more than this tiny product
    (and stalls when the cores are busy with training)."""
    spec = "ij,j->i" if values.ndim == 1 else "ij,jk->ik"
    return np.einsum(spec, w, values.astype(w.dtype, copy=False))


def _resample_counts(rng: np.random.Generator, resamples: int, rows: int) -> np.ndarray:
    """How many times each row is drawn in each of ``resamples`` draws of ``rows`` rows."""
    picks = rng.integers(0, rows, size=(resamples, rows)) + rows * np.arange(resamples)[:, None]
    counts = np.bincount(picks.ravel(), minlength=resamples * rows)
    # float32 is exact for these counts and their sums, and halves the memory traffic.
    return counts.reshape(resamples, rows).astype(np.float32)


def _finite(value: float) -> float | None:
    return value if np.isfinite(value) else None
