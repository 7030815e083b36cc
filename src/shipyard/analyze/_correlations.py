"""Correlations between columns, from the profile's row sample.

Pearson and Spearman between numeric columns (pairwise-complete rows), Cramér's V between
categorical columns. On wide tables the matrices keep the ``max_columns`` columns that take
part in the strongest pairs, and ``top_pairs`` lists the strongest pairs of every kind.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from shipyard.analyze import stats

__all__ = ["correlations"]


def _varies(v: NDArray[np.float64]) -> bool:
    present = v[~np.isnan(v)]
    return bool(present.size >= 3 and present.min() < present.max())


def _matrix_block(
    names: list[str], matrix: NDArray[np.float64], max_columns: int
) -> tuple[list[str], NDArray[np.float64]]:
    if len(names) <= max_columns:
        return names, matrix
    strength = np.nan_to_num(np.abs(matrix))
    np.fill_diagonal(strength, 0.0)
    keep = np.sort(np.argsort(-strength.max(axis=1), kind="stable")[:max_columns])
    return [names[i] for i in keep], matrix[np.ix_(keep, keep)]


def _as_json(matrix: NDArray[np.float64]) -> list[list[float | None]]:
    return [[None if not math.isfinite(v) else round(float(v), 6) for v in row] for row in matrix]


def _pairs(names: list[str], matrix: NDArray[np.float64], method: str) -> list[dict[str, Any]]:
    iu = np.triu_indices(len(names), k=1)
    vals = matrix[iu]
    ok = np.isfinite(vals)
    return [
        {"a": names[i], "b": names[j], "method": method, "value": float(v)}
        for i, j, v in zip(iu[0][ok], iu[1][ok], vals[ok], strict=True)
    ]


def correlations(
    numeric: dict[str, NDArray[np.float64]],
    categorical: dict[str, NDArray[np.int64]],
    *,
    max_columns: int = 40,
    max_numeric: int = 100,
    top_pairs: int = 30,
    ranks: dict[str, NDArray[np.float64]] | None = None,
) -> dict[str, Any]:
    """Correlation matrices and the strongest pairs; every value is JSON-able.

    Args:
        numeric: Sampled values per numeric column (NaN for missing), all the same length.
        categorical: Sampled level codes per categorical column (missing is its own level).
        max_columns: Columns kept in each matrix (and categorical columns compared).
        max_numeric: Numeric columns compared; past it, the most complete ones.
        top_pairs: Pairs listed, strongest first (by absolute value).
        ranks: Precomputed average ranks per numeric column (else ranked here).
    """
    out: dict[str, Any] = {}
    pairs: list[dict[str, Any]] = []
    num_names = [n for n, v in numeric.items() if _varies(v)]
    if len(num_names) > max_numeric:
        # Wide tables: the most complete columns (then schema order) take part.
        missing = {n: int(np.isnan(numeric[n]).sum()) for n in num_names}
        keep = set(sorted(num_names, key=lambda n: missing[n])[:max_numeric])
        num_names = [n for n in num_names if n in keep]
    if len(num_names) >= 2:
        x = np.column_stack([numeric[n] for n in num_names])
        pearson = stats.pairwise_pearson(x)
        ranks = ranks or {}
        r = np.column_stack([ranks[n] if n in ranks else stats.rank(numeric[n]) for n in num_names])
        spearman = stats.pairwise_pearson(r)
        for method, m in (("pearson", pearson), ("spearman", spearman)):
            cols, block = _matrix_block(num_names, m, max_columns)
            out[method] = {"columns": cols, "matrix": _as_json(block)}
            pairs += _pairs(num_names, m, method)
    cat_names = list(categorical)[:max_columns]
    if len(cat_names) >= 2:
        k = len(cat_names)
        v = np.eye(k)
        for i, j in itertools.combinations(range(k), 2):
            a, b = categorical[cat_names[i]], categorical[cat_names[j]]
            v[i, j] = v[j, i] = stats.cramers_v(a, b)
        cols, block = _matrix_block(cat_names, v, max_columns)
        out["cramers_v"] = {"columns": cols, "matrix": _as_json(block)}
        pairs += _pairs(cat_names, v, "cramers_v")
    pairs.sort(key=lambda p: -abs(p["value"]))
    out["top_pairs"] = pairs[:top_pairs]
    return out
