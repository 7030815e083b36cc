"""Class balance and each feature's association with the target, from the row sample.

The association is reported with a ``strength`` in [0, 1] whatever the metric, so alerts and
the report can rank features alike:

- binary target: AUC of the feature alone (numeric as the score; categorical scored by the
  target rate of its level, in-sample), strength ``|2 AUC - 1|`` (the Gini coefficient);
- multiclass target: correlation ratio η (numeric feature) or Cramér's V (categorical);
- numeric target: ``|Pearson r|`` (numeric feature) or η (categorical feature).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from shipyard.analyze import stats

__all__ = ["MAX_CLASSES", "target_analysis"]

MAX_CLASSES = 20


def _codes(sample: NDArray[Any]) -> NDArray[np.int64]:
    if sample.dtype.kind == "f":
        ok = ~np.isnan(sample)
        out = np.full(sample.size, -1, dtype=np.int64)
        _, out[ok] = np.unique(sample[ok], return_inverse=True)
        return out
    return sample.astype(np.int64)


def target_analysis(
    target: dict[str, Any],
    target_sample: NDArray[Any] | None,
    features: dict[str, tuple[str, NDArray[Any], NDArray[np.float64] | None]],
    other_code: int | None = None,
) -> dict[str, Any]:
    """Target summary and associations.

    Args:
        target: The target column's profile.
        target_sample: The target's sampled values (floats or categorical codes).
        features: ``name -> ("numeric" | "categorical", sampled values, ranks or None)``;
            numeric ranks (NaN for missing) spare a sort per feature.
        other_code: The categorical target's code for rare levels and missing values.
    """
    distinct = target.get("distinct") or 0
    classification = target["semantic_type"] in ("categorical", "boolean") or (
        target["semantic_type"] == "numeric" and distinct <= MAX_CLASSES
    )
    out: dict[str, Any] = {"column": target["name"], "associations": []}
    if not classification:
        out["kind"] = "regression"
    else:
        classes = target.get("top_values", [])
        out["kind"] = "binary" if distinct == 2 else "multiclass"
        out["classes"] = classes
        if len(classes) >= 2:
            out["imbalance_ratio"] = classes[0]["count"] / max(classes[-1]["count"], 1)
            out["minority"] = classes[-1]["value"]
            out["minority_pct"] = 100.0 * classes[-1]["count"] / max(target["count"], 1)
    if target_sample is None or distinct < 2:
        return out
    if out["kind"] == "regression":
        y = target_sample.astype(np.float64)
        present = ~np.isnan(y)
    else:
        y_codes = _codes(target_sample)
        present = y_codes >= 0
        if other_code is not None:
            present &= y_codes != other_code  # the code that pools "other / missing"
    assoc: list[dict[str, Any]] = []
    all_present = bool(present.all())
    for name, (kind, values, ranks) in features.items():
        rows = present & (~np.isnan(values) if values.dtype.kind == "f" else True)
        if rows.sum() < 10:
            continue
        v = values[rows]
        if out["kind"] == "binary":
            yc = y_codes[rows]
            positive = yc == np.bincount(yc).argmin()
            if positive.all() or not positive.any():
                continue
            if kind == "categorical":
                codes = v.astype(np.int64)
                pos = np.bincount(codes, weights=positive.astype(np.float64))
                tot = np.bincount(codes).astype(np.float64)
                a = stats.auc_grouped(pos / np.maximum(tot, 1), pos, tot - pos)
            elif ranks is not None and all_present:
                a = stats.auc_from_ranks(ranks[rows], positive)
            else:
                a = stats.auc(v, positive)
            metric, value, strength = "auc", a, abs(2 * a - 1)
        elif out["kind"] == "multiclass":
            if kind == "categorical":
                value = stats.cramers_v(v, y_codes[rows])
                metric = "cramers_v"
            else:
                value = stats.correlation_ratio(y_codes[rows], v)
                metric = "correlation_ratio"
            strength = value
        else:
            if kind == "categorical":
                value = stats.correlation_ratio(v.astype(np.int64), y[rows])
                metric = "correlation_ratio"
                strength = value
            else:
                yy = y[rows]
                value = float(stats.pairwise_pearson(np.column_stack([v, yy]))[0, 1])
                metric, strength = "pearson", abs(value)
        if np.isfinite(strength):
            assoc.append(
                {
                    "column": name,
                    "metric": metric,
                    "value": float(value),
                    "strength": float(strength),
                }
            )
    assoc.sort(key=lambda a: -float(a["strength"]))
    out["associations"] = assoc
    return out
