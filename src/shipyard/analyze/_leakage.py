"""Target leakage: a single column that predicts the target far better than anything else.

Each feature's association with the target has a ``strength`` in [0, 1] (see
:mod:`shipyard.analyze._target`; for a binary target ``|2 AUC - 1|``). A column leaks when

- its strength is 0.98 or more (a single-feature AUC of 0.99): almost a copy of the target;
- or its strength is 0.9 or more (AUC 0.95) and what it leaves unexplained, ``1 - strength``,
  is at most a third of what the next column leaves. A real signal rarely stands that far
  above every other; a label written back into the table, or a value known only after the
  outcome, does. A column equal to a binary label 98% of the time (AUC 0.983, strength
  0.966) next to an honest best of AUC 0.85 (strength 0.70) leaks: 0.034 against 0.30.

Several columns can leak together (a copy and a near copy): the gap is looked for below
each of the strongest three, so both are caught, as long as fewer than half the columns
stand above it (when most columns are that strong, strength is the norm in this table).

The profile judges the associations it has from its row sample; the split computes them on
the training rows of a pandas frame with :func:`feature_strengths`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from shipyard.analyze._target import MAX_CLASSES, association, labels_of

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ABSOLUTE_STRENGTH", "feature_strengths", "leak_message", "leaking"]

ABSOLUTE_STRENGTH = 0.98
RELATIVE_STRENGTH = 0.9
RELATIVE_GAP = 3.0
MAX_LEAKING = 3
SAMPLE_ROWS = 50_000
_LEVELS = 30  # categorical levels kept apart; the rest are pooled (as the profile does)


def leaking(associations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The associations that give the target away, strongest first, each with ``rule``
    (``absolute`` or ``relative``) and ``next`` (the strongest column that does not leak,
    or None).

    Args:
        associations: ``{column, metric, value, strength}`` per feature.
    """
    ranked = sorted(associations, key=lambda a: -float(a["strength"]))
    cut = -1  # the last leaking position
    for i, a in enumerate(ranked[:MAX_LEAKING]):
        strength = float(a["strength"])
        if strength >= ABSOLUTE_STRENGTH:
            cut = i
            continue
        # Above the gap: a few columns, never most of them (then strength is the norm here).
        if strength < RELATIVE_STRENGTH or i + 1 > len(ranked) / 2:
            continue
        left, next_left = 1 - strength, 1 - float(ranked[i + 1]["strength"])
        if RELATIVE_GAP * left <= next_left:
            cut = i
    if cut < 0:
        return []
    honest = ranked[cut + 1] if cut + 1 < len(ranked) else None
    out = []
    for a in ranked[: cut + 1]:
        rule = "absolute" if float(a["strength"]) >= ABSOLUTE_STRENGTH else "relative"
        out.append({**a, "rule": rule, "next": honest})
    return out


def leak_message(leak: dict[str, Any], target: str) -> str:
    """What was seen about a leaking column, and what to do."""
    column, metric, value = leak["column"], leak["metric"], float(leak["value"])
    nxt = leak.get("next")
    if leak["rule"] == "absolute":
        seen = f"predicts target '{target}' almost perfectly on its own ({metric} {value:.3f})"
    else:
        other = (
            f"the next best, '{nxt['column']}', {nxt['metric']} {float(nxt['value']):.3f}"
            if nxt
            else "no other column comes close"
        )
        seen = (
            f"predicts target '{target}' far better on its own than any other column "
            f"({metric} {value:.3f}; {other})"
        )
    return (
        f"Column '{column}' {seen}: likely leakage (computed from the label, or known only "
        f"after it). Check how it is produced; exclude it (--exclude {column}) unless it is "
        "known when the prediction is made."
    )


def feature_strengths(
    frame: pd.DataFrame, target: str, columns: list[str] | None = None, seed: int = 0
) -> list[dict[str, Any]]:
    """Each column's association with ``target`` on (a sample of at most 50,000 of) the
    rows of ``frame``, as the profile reports them: ``{column, metric, value, strength}``,
    strongest first. Rows without a target are left out."""
    import pandas as pd

    rows = frame[frame[target].notna()]
    if len(rows) > SAMPLE_ROWS:
        rows = rows.sample(SAMPLE_ROWS, random_state=seed)
    y = rows[target]
    distinct = y.nunique()
    if distinct < 2:
        return []
    numeric = pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
    if numeric and distinct > MAX_CLASSES:
        labels = labels_of("regression", y.to_numpy(dtype=np.float64), None)
    else:
        kind = "binary" if distinct == 2 else "multiclass"
        labels = labels_of(kind, pd.factorize(y)[0].astype(np.float64), None)
    out: list[dict[str, Any]] = []
    for name in columns if columns is not None else rows.columns:
        if name == target:
            continue
        column_kind, values = _values(rows[name])
        if column_kind is None:
            continue
        found = association(labels, column_kind, values, None)
        if found is not None and np.isfinite(found[2]):
            metric, value, strength = found
            out.append(
                {
                    "column": name,
                    "metric": metric,
                    "value": float(value),
                    "strength": float(strength),
                }
            )
    out.sort(key=lambda a: -float(a["strength"]))
    return out


def _values(col: pd.Series) -> tuple[str | None, np.ndarray]:
    """A column as the association reads it: floats (NaN missing) or level codes, the most
    frequent 30 levels kept and the others, missing included, pooled in one code."""
    import pandas as pd

    dtype = col.dtype
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return "numeric", col.to_numpy(dtype=np.float64, na_value=np.nan)
    if pd.api.types.is_datetime64_any_dtype(dtype):
        values = col.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)
        values[col.isna().to_numpy()] = np.nan
        return "numeric", values
    codes, _ = pd.factorize(col, use_na_sentinel=True)
    if codes.max(initial=-1) < 0:
        return None, codes
    freq = np.bincount(codes[codes >= 0])
    top = np.argsort(-freq, kind="stable")[:_LEVELS]
    remap = np.full(len(freq) + 1, len(top), dtype=np.int64)
    remap[top] = np.arange(len(top))
    return "categorical", remap[codes]  # -1 (missing) takes the last slot: pooled
