"""Class balance and each feature's association with the target, from the row sample.

The association is reported with a ``strength`` in [0, 1] whatever the metric, so alerts and
the report can rank features alike:

- binary target: AUC of the feature alone (numeric as the score; categorical scored by the
  target rate of its level, in-sample), strength ``|2 AUC - 1|`` (the Gini coefficient);
- multiclass target: correlation ratio η (numeric feature) or Cramér's V (categorical);
- numeric target: ``|Pearson r|`` (numeric feature) or η (categorical feature).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from shipyard.analyze import stats

__all__ = ["MAX_CLASSES", "association", "labels_of", "target_analysis"]

MAX_CLASSES = 20


def _codes(sample: NDArray[Any]) -> NDArray[np.int64]:
    if sample.dtype.kind == "f":
        ok = ~np.isnan(sample)
        out = np.full(sample.size, -1, dtype=np.int64)
        _, out[ok] = np.unique(sample[ok], return_inverse=True)
        return out
    return sample.astype(np.int64)


@dataclass(frozen=True)
class _Labels:
    """The target's sampled labels: ``y`` holds class codes (binary, multiclass) or values
    (regression); ``present`` marks the rows whose label is known."""

    kind: str
    y: NDArray[Any]
    present: NDArray[np.bool_]


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
    out = _summary(target)
    if target_sample is None or (target.get("distinct") or 0) < 2:
        return out
    labels = labels_of(out["kind"], target_sample, other_code)
    # A feature's ranks are over all its sampled values: they hold only if no label drops rows.
    all_present = bool(labels.present.all())
    assoc: list[dict[str, Any]] = []
    for name, (kind, values, ranks) in features.items():
        found = association(labels, kind, values, ranks if all_present else None)
        if found is None:
            continue
        metric, value, strength = found
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


def _summary(target: dict[str, Any]) -> dict[str, Any]:
    """The target's kind and, for classification, its classes and their balance."""
    distinct = target.get("distinct") or 0
    classification = target["semantic_type"] in ("categorical", "boolean") or (
        target["semantic_type"] == "numeric" and distinct <= MAX_CLASSES
    )
    out: dict[str, Any] = {"column": target["name"], "associations": []}
    if not classification:
        out["kind"] = "regression"
        return out
    classes = target.get("top_values", [])
    out["kind"] = "binary" if distinct == 2 else "multiclass"
    out["classes"] = classes
    if len(classes) >= 2:
        out["imbalance_ratio"] = classes[0]["count"] / max(classes[-1]["count"], 1)
        out["minority"] = classes[-1]["value"]
        out["minority_pct"] = 100.0 * classes[-1]["count"] / max(target["count"], 1)
    return out


def labels_of(kind: str, target_sample: NDArray[Any], other_code: int | None) -> _Labels:
    """The sampled labels as floats (regression) or class codes, and where they are known."""
    if kind == "regression":
        y = target_sample.astype(np.float64)
        return _Labels(kind, y, ~np.isnan(y))
    codes = _codes(target_sample)
    present = codes >= 0
    if other_code is not None:
        present &= codes != other_code  # the code that pools "other / missing"
    return _Labels(kind, codes, present)


def association(
    labels: _Labels, kind: str, values: NDArray[Any], ranks: NDArray[np.float64] | None
) -> tuple[str, float, float] | None:
    """``(metric, value, strength)`` of one feature against the target, on the rows where
    both are known; None with fewer than 10 such rows or a single class among them."""
    rows = labels.present & (~np.isnan(values) if values.dtype.kind == "f" else True)
    if rows.sum() < 10:
        return None
    v, y = values[rows], labels.y[rows]
    if labels.kind == "binary":
        return _auc(kind, v, y, None if ranks is None else ranks[rows])
    if labels.kind == "multiclass":
        if kind == "categorical":
            value = stats.cramers_v(v, y)
            return "cramers_v", value, value
        value = stats.correlation_ratio(y, v)
        return "correlation_ratio", value, value
    if kind == "categorical":
        value = stats.correlation_ratio(v.astype(np.int64), y)
        return "correlation_ratio", value, value
    value = float(stats.pairwise_pearson(np.column_stack([v, y]))[0, 1])
    return "pearson", value, abs(value)


def _auc(
    kind: str, v: NDArray[Any], codes: NDArray[np.int64], ranks: NDArray[np.float64] | None
) -> tuple[str, float, float] | None:
    """A binary target's AUC for one feature (the rarer class positive); None when the
    rows hold one class only."""
    positive = codes == np.bincount(codes).argmin()
    if positive.all() or not positive.any():
        return None
    if kind == "categorical":
        # Each level scores as its target rate: the feature's best in-sample ranking.
        level = v.astype(np.int64)
        pos = np.bincount(level, weights=positive.astype(np.float64))
        tot = np.bincount(level).astype(np.float64)
        a = stats.auc_grouped(pos / np.maximum(tot, 1), pos, tot - pos)
    elif ranks is not None:
        a = stats.auc_from_ranks(ranks, positive)
    else:
        a = stats.auc(v, positive)
    return "auc", a, abs(2 * a - 1)
