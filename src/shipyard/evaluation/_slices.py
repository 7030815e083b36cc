"""Metrics per slice of a column: per value (the most frequent ones) or per quantile bin.

Rows are grouped by an integer code per slice and every metric is a ``bincount``, so a slice
column costs a few passes over the test rows whatever the number of slices. A slice is
flagged when it is large enough to judge and its key metric is much worse than overall.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd

from shipyard.types import ProblemType

__all__ = ["FLAG_RULES", "slice_metrics"]

TOP_VALUES = 10
BINS = 5
_MISSING = "(missing)"
_OTHER = "(other)"
_MIN_CLASS_ROWS = 10  # positives and negatives a slice needs for its AUC or recall to count
_MIN_ROWS = 30
_Z = 1.96

FLAG_RULES: dict[ProblemType, str] = {
    "binary": (
        "ROC AUC at least 0.05 below overall (slices with 10+ positives and negatives), or "
        "recall at the threshold at least 0.10 below overall (slices with 10+ positives), "
        "with the slice's 95% interval below the overall value"
    ),
    "multiclass": (
        "accuracy at least 0.05 below overall (slices with 30+ rows), with the slice's 95% "
        "interval below the overall value"
    ),
    "regression": (
        "MAE at least 25% above overall (slices with 30+ rows), with the slice's 95% "
        "interval above the overall value"
    ),
}


def slice_metrics(
    problem: ProblemType,
    column: pd.Series,
    y: np.ndarray,
    scores: np.ndarray,
    *,
    threshold: float,
    overall: dict[str, float | None],
    order: np.ndarray | None = None,
) -> dict[str, Any]:
    """One column's slices, largest first: value, rows, metrics, and flags.

    Args:
        column: The column's values on the test rows (any dtype; aligned with ``y``).
        overall: The same metrics on all test rows, to flag slices against.
        order: The rows sorted by score (binary; ties in any order), when the caller has it.
    """
    codes, labels, kind = _codes(column)
    n_groups = len(labels)
    rows = np.bincount(codes, minlength=n_groups).astype(np.float64)
    if problem == "binary":
        if order is None:
            order = np.argsort(scores, kind="stable")
        metrics = _binary(codes, n_groups, rows, y, scores, threshold, order)
    elif problem == "multiclass":
        metrics = _multiclass(codes, n_groups, rows, y, scores)
    else:
        metrics = _regression(codes, n_groups, rows, y, scores)
    flags = _flags(problem, metrics, rows, overall)
    values = []
    for g in np.argsort(-rows, kind="stable") if kind == "values" else range(n_groups):
        if rows[g] == 0:
            continue
        values.append(
            {
                "value": labels[g],
                "rows": int(rows[g]),
                "share": float(rows[g] / len(codes)),
                **{k: _num(v[g]) for k, v in metrics.items()},
                **({"positives": int(metrics["positives"][g])} if "positives" in metrics else {}),
                "flags": flags[g],
            }
        )
    return {"column": str(column.name), "kind": kind, "slices": values}


def _codes(column: pd.Series) -> tuple[np.ndarray, list[str], str]:
    """An integer code per row, the label of each code, and how slices were made."""
    missing = column.isna().to_numpy()
    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    dated = pd.api.types.is_datetime64_any_dtype(column)
    # The head usually shows a number has many values; counting them all hashes every row.
    many = (numeric or dated) and (
        column.head(10_000).nunique() > TOP_VALUES or column.nunique() > TOP_VALUES
    )
    if many:
        if dated:
            if getattr(column.dt, "tz", None) is not None:
                column = column.dt.tz_convert(None)
            column = column.astype("datetime64[ns]")
        values = column.to_numpy(dtype=np.int64 if dated else np.float64, na_value=0)
        present = values[~missing]
        edges = np.unique(np.quantile(present, np.linspace(0, 1, BINS + 1)))
        if dated:
            edges = np.unique(edges.astype(np.int64))
        codes = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)
        labels = [
            f"[{_edge(a, dated)}, {_edge(b, dated)}{']' if i == len(edges) - 2 else ')'}"
            for i, (a, b) in enumerate(itertools.pairwise(edges))
        ]
        kind = "quantile bins"
    else:
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
        top = np.argsort(-counts, kind="stable")[:TOP_VALUES]
        remap = np.full(len(uniques), len(top))
        remap[top] = np.arange(len(top))
        labels = [str(uniques[i]) for i in top]
        codes = remap[np.maximum(codes, 0)] if len(uniques) else np.zeros(len(codes), np.int64)
        if len(uniques) > len(top):
            labels.append(_OTHER)
        kind = "values"
    if missing.any():
        codes = np.where(missing, len(labels), codes)
        labels.append(_MISSING)
    return codes.astype(np.int64), labels, kind


def _edge(value: float, dated: bool) -> str:
    if dated:
        return str(pd.Timestamp(int(value)).date())
    return f"{value:.4g}"


def _binary(
    codes: np.ndarray,
    k: int,
    rows: np.ndarray,
    y: np.ndarray,
    scores: np.ndarray,
    threshold: float,
    order: np.ndarray,
) -> dict[str, np.ndarray]:
    flagged = scores >= threshold
    positives = np.bincount(codes, weights=y, minlength=k)
    alerts = np.bincount(codes, weights=flagged, minlength=k)
    hits = np.bincount(codes, weights=y * flagged, minlength=k)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "positives": positives,
            "positive_rate": positives / rows,
            "mean_score": np.bincount(codes, weights=scores, minlength=k) / rows,
            "roc_auc": _grouped_auc(codes, k, y, scores, order, positives, rows - positives),
            "alert_rate": alerts / rows,
            "precision": hits / alerts,
            "recall": hits / positives,
        }


def _grouped_auc(
    codes: np.ndarray,
    k: int,
    y: np.ndarray,
    scores: np.ndarray,
    by_score: np.ndarray,
    positives: np.ndarray,
    negatives: np.ndarray,
) -> np.ndarray:
    """ROC AUC within every group at once: the Mann-Whitney U of the positives' mid-ranks."""
    # Rows by group, then by score: a stable sort of the few group codes (a radix sort for
    # 16-bit integers) over the rows already sorted by score.
    order = by_score[np.argsort(codes[by_score].astype(np.int16), kind="stable")]
    g, s = codes[order], scores[order]
    n = len(order)
    position = np.arange(n, dtype=np.float64)
    group_start = np.r_[0, np.flatnonzero(np.diff(g)) + 1]
    first_of_group = np.repeat(position[group_start], np.diff(np.r_[group_start, n]))
    new_run = np.r_[True, (np.diff(g) != 0) | (np.diff(s) != 0)]
    run_id = np.cumsum(new_run) - 1
    run_first = position[new_run]
    run_last = np.r_[run_first[1:] - 1, n - 1]
    mid_rank = (run_first + run_last)[run_id] / 2 - first_of_group + 1
    rank_sum = np.bincount(g, weights=mid_rank * y[order], minlength=k)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def _multiclass(
    codes: np.ndarray, k: int, rows: np.ndarray, y: np.ndarray, scores: np.ndarray
) -> dict[str, np.ndarray]:
    truth = y.astype(np.int64)
    correct = np.argmax(scores, axis=1) == truth
    loss = -np.log(np.clip(scores[np.arange(len(truth)), truth], 1e-15, 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "accuracy": np.bincount(codes, weights=correct, minlength=k) / rows,
            "log_loss": np.bincount(codes, weights=loss, minlength=k) / rows,
        }


def _regression(
    codes: np.ndarray, k: int, rows: np.ndarray, y: np.ndarray, predicted: np.ndarray
) -> dict[str, np.ndarray]:
    err = predicted - y
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "mean_actual": np.bincount(codes, weights=y, minlength=k) / rows,
            "mae": np.bincount(codes, weights=np.abs(err), minlength=k) / rows,
            "rmse": np.sqrt(np.bincount(codes, weights=err**2, minlength=k) / rows),
            "bias": np.bincount(codes, weights=err, minlength=k) / rows,
        }


def _flags(
    problem: ProblemType,
    metrics: dict[str, np.ndarray],
    rows: np.ndarray,
    overall: dict[str, float | None],
) -> list[list[str]]:
    """Why each slice is flagged: its metric is past the margin and, so that chance alone
    rarely flags a small slice, its 95% bound on the good side is still worse than overall."""
    reasons: list[list[str]] = [[] for _ in rows]

    def check(name: str, worse: np.ndarray, eligible: np.ndarray, text: str) -> None:
        base = overall[name]
        for g in np.flatnonzero(eligible & worse & np.isfinite(metrics[name])):
            reasons[g].append(text.format(value=metrics[name][g], overall=base))

    with np.errstate(divide="ignore", invalid="ignore"):
        if problem == "binary":
            positives = metrics["positives"]
            negatives = rows - positives
            auc, recall = overall.get("roc_auc"), overall.get("recall")
            if auc is not None:
                value = metrics["roc_auc"]
                upper = value + _Z * _auc_se(value, positives, negatives)
                check(
                    "roc_auc",
                    (value <= auc - 0.05) & (upper < auc),
                    (positives >= _MIN_CLASS_ROWS) & (negatives >= _MIN_CLASS_ROWS),
                    "ROC AUC {value:.3f} vs {overall:.3f} overall",
                )
            if recall is not None:
                value = metrics["recall"]
                check(
                    "recall",
                    (value <= recall - 0.10) & (_wilson_upper(value, positives) < recall),
                    positives >= _MIN_CLASS_ROWS,
                    "recall {value:.1%} vs {overall:.1%} overall",
                )
        elif problem == "multiclass":
            accuracy = overall.get("accuracy")
            value = metrics["accuracy"]
            if accuracy is not None:
                check(
                    "accuracy",
                    (value <= accuracy - 0.05) & (_wilson_upper(value, rows) < accuracy),
                    rows >= _MIN_ROWS,
                    "accuracy {value:.1%} vs {overall:.1%} overall",
                )
        else:
            mae = overall.get("mae")
            value = metrics["mae"]
            spread = np.sqrt(np.maximum(metrics["rmse"] ** 2 - value**2, 0) / rows)
            if mae is not None:
                check(
                    "mae",
                    (value >= 1.25 * mae) & (value - _Z * spread > mae),
                    rows >= _MIN_ROWS,
                    "MAE {value:.4g} vs {overall:.4g} overall",
                )
    return reasons


def _wilson_upper(share: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The upper end of the 95% Wilson interval of a share measured on ``n`` rows."""
    centre = share + _Z**2 / (2 * n)
    half = _Z * np.sqrt(share * (1 - share) / n + _Z**2 / (4 * n**2))
    return (centre + half) / (1 + _Z**2 / n)


def _auc_se(auc: np.ndarray, positives: np.ndarray, negatives: np.ndarray) -> np.ndarray:
    """Hanley and McNeil's (1982) standard error of a ROC AUC."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = (
        auc * (1 - auc) + (positives - 1) * (q1 - auc**2) + (negatives - 1) * (q2 - auc**2)
    ) / (positives * negatives)
    return np.sqrt(np.maximum(variance, 0))


def _num(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
