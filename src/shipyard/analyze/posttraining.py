"""Post-training bias metrics on a model's predictions, as SageMaker Clarify defines them.

Convention (Clarify's, as in :mod:`shipyard.analyze.bias`): for each facet value, ``d`` is the
facet group (the rows whose facet equals that value, or is greater than ``threshold`` for a
continuous facet) and ``a`` is every other row. Observed and predicted labels are binarized:
positive when the value is one of ``positive``. Per group, TP, FP, FN, TN are the confusion
counts, ``n = TP + FP + FN + TN``, ``n(1) = TP + FN`` and ``n(0) = TN + FP`` the observed
positives and negatives, ``n^(1) = TP + FP`` and ``n^(0) = TN + FN`` the predicted ones:

- DPPL  = q^_a - q^_d, q^ = n^(1) / n                diff. in positive proportions in predictions
- DI    = q^_d / q^_a                                disparate impact, in [0, +inf)
- DCAcc = c_a - c_d, c = n(1) / n^(1)                diff. in conditional acceptance
- DCR   = r_d - r_a, r = n(0) / n^(0)                diff. in conditional rejection (d first)
- RD    = TP_a / n(1)_a - TP_d / n(1)_d              recall difference
- DAR   = TP_a / n^(1)_a - TP_d / n^(1)_d            diff. in acceptance rates (precision)
- DRR   = TN_d / n^(0)_d - TN_a / n^(0)_a            diff. in rejection rates (d first)
- AD    = (TP + TN)_a / n_a - (TP + TN)_d / n_d      accuracy difference
- TE    = FN_d / FP_d - FN_a / FP_a                  treatment equality

Sources checked: the SageMaker developer guide pages ``clarify-post-training-bias-metric-*``
(awsdocs/amazon-sagemaker-developer-guide) and the reference implementation Clarify runs,
``smclarify.bias.metrics.posttraining`` and ``common`` (aws/amazon-sagemaker-clarify). Both
agree on every sign above except TE: the guide writes ``FP_a/FN_a - FP_d/FN_d`` while the
implementation computes ``FN_d/FP_d - FN_a/FP_a``; we follow the implementation, which is what
Clarify reports. Where a ratio has an empty denominator Clarify returns 0 (for 0/0) or
infinity; we return ``None`` and say why in the reading, since a made-up 0 reads as "no gap"
and infinity is not JSON. DI with ``q^_a = 0 < q^_d`` is ``None`` but flagged. Rows with a
missing facet, label or prediction are left out (counted in ``rows_dropped``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from shipyard.analyze._bias_common import MAX_FACET_VALUES, json_value, match_value, metric_entry
from shipyard.errors import InvalidInput, did_you_mean

__all__ = ["POSTTRAINING_LIMITS", "POSTTRAINING_VERSION", "posttraining_bias"]

POSTTRAINING_VERSION = 1

# Past these absolute values a metric is flagged, except DI, flagged outside [0.8, 1/0.8]
# (the four-fifths rule). Rate differences (DPPL, RD, DAR, DRR, AD) use a 10-point gap, as
# DPL does before training. DCAcc and DCR compare observed-to-predicted ratios near 1, so 0.2
# is a 20% relative gap; TE flags one more missed positive per false alarm in one group.
POSTTRAINING_LIMITS: dict[str, float] = {
    "DPPL": 0.1,
    "DI": 0.8,
    "DCAcc": 0.2,
    "DCR": 0.2,
    "RD": 0.1,
    "DAR": 0.1,
    "DRR": 0.1,
    "AD": 0.1,
    "TE": 1.0,
}

_RANGES = {
    "DPPL": "[-1, 1]",
    "DI": "[0, +inf)",
    "DCAcc": "(-inf, +inf)",
    "DCR": "(-inf, +inf)",
    "RD": "[-1, 1]",
    "DAR": "[-1, 1]",
    "DRR": "[-1, 1]",
    "AD": "[-1, 1]",
    "TE": "(-inf, +inf)",
}
_NAMES = {
    "DPPL": "Difference in positive proportions in predicted labels",
    "DI": "Disparate impact",
    "DCAcc": "Difference in conditional acceptance",
    "DCR": "Difference in conditional rejection",
    "RD": "Recall difference",
    "DAR": "Difference in acceptance rates",
    "DRR": "Difference in rejection rates",
    "AD": "Accuracy difference",
    "TE": "Treatment equality",
}

# Columns of a confusion row: the cell index is 2 * observed + predicted.
_TN, _FP, _FN, _TP = 0, 1, 2, 3


def posttraining_bias(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    facet: np.ndarray,
    *,
    positive: Sequence[Any],
    facet_values: Sequence[Any] | None = None,
    threshold: float | None = None,
    facet_name: str = "facet",
    label_name: str = "label",
) -> dict[str, Any]:
    """Clarify's post-training bias metrics of predictions, for each facet group versus the rest.

    Args:
        y_true: Observed labels, any dtype.
        y_pred: Predicted labels, in the same label space as ``y_true``.
        facet: The sensitive column's value per row (strings, numbers, bools; None/NaN rows
            are left out).
        positive: The label values that count as the positive (favourable) outcome; matched as
            text when the types differ (``"1"`` matches ``1``).
        facet_values: Facet values to report, each against all other rows (default: every
            value, the most frequent ``MAX_FACET_VALUES`` first).
        threshold: For a numeric facet: the group is ``facet > threshold`` (Clarify's rule).
        facet_name: The facet's name, for descriptions and readings.
        label_name: The label's name, for readings.

    Returns:
        ``{"version", "kind", "label", "positive", "facet", "threshold", "rows",
        "rows_dropped", "positive_rate", "predicted_positive_rate", "limits", "facets":
        [{"value", "description", "n_d", "n_a", "positive_rate_d", "positive_rate_a",
        "predicted_positive_rate_d", "predicted_positive_rate_a", "confusion_d",
        "confusion_a", "metrics": {"DPPL": {"name", "value", "range", "limit", "flag",
        "reading"}, ...}}]}``, JSON-able; an undefined metric has ``value`` None.

    Raises:
        InvalidInput: Arrays of different lengths or not one-dimensional, no complete row, no
            positive value among the labels, observed labels of a single class, a facet with a
            single group, an unknown facet value, ``threshold`` with ``facet_values`` or on a
            non-numeric facet, a threshold that leaves one side empty.
    """
    y_true, y_pred, facet = (np.asarray(a) for a in (y_true, y_pred, facet))
    _check_shapes(y_true, y_pred, facet)
    if threshold is not None and facet_values is not None:
        raise InvalidInput(
            "Give either facet_values (a categorical facet) or threshold (a numeric one), not both."
        )
    wanted = [positive] if isinstance(positive, str | bytes) else list(positive)
    true_ok, t, true_hits, true_labels = _binarize(y_true, wanted)
    pred_ok, p, pred_hits, _ = _binarize(y_pred, wanted)
    try:
        f_codes, f_uniques = pd.factorize(facet, use_na_sentinel=True)
    except TypeError as exc:  # unhashable values: the rows of a list or struct column
        raise InvalidInput(
            f"The facet column '{facet_name}' holds values that cannot form groups ({exc}). "
            "Post-training bias needs a facet of single values: text, numbers, booleans or "
            "dates. Pick another column.",
            details={"column": facet_name},
        ) from exc
    keep = true_ok & pred_ok & (f_codes >= 0)
    n_total, n = int(facet.size), int(keep.sum())
    if n == 0:
        raise InvalidInput(
            f"No rows to measure bias on: none of the {n_total:,} rows has an observed label, a "
            f"prediction and a '{facet_name}' value. Pass the test set's rows."
        )
    pos_values = [json_value(v) for v in dict.fromkeys([*true_hits, *pred_hits])]
    if not pos_values:
        shown = ", ".join(map(repr, (json_value(v) for v in true_labels[:20])))
        raise InvalidInput(
            f"None of the positive values {wanted!r} occurs in '{label_name}' or its "
            f"predictions. Labels: {shown}."
            + did_you_mean(str(wanted[0]) if wanted else "", map(str, true_labels))
        )
    t, p = t[keep], p[keep]
    n_pos = int(t.sum())
    if n_pos in (0, n):
        which = "no" if n_pos == 0 else "only"
        raise InvalidInput(
            f"The observed '{label_name}' has {which} positive values ({pos_values!r}) in the "
            f"{n:,} rows: bias metrics compare how the model treats real positives and "
            "negatives, so both must occur. Evaluate on a set with both classes."
        )

    outcome = (
        f"{label_name} = {pos_values[0]!r}"
        if len(pos_values) == 1
        else f"{label_name} in ({', '.join(map(repr, pos_values))})"
    )
    if threshold is not None:
        groups, chosen, values = _threshold_groups(facet[keep], threshold, facet_name)
    else:
        groups = f_codes[keep]
        sizes = np.bincount(groups, minlength=len(f_uniques))
        values = [json_value(v) for v in f_uniques]
        if np.count_nonzero(sizes) < 2:
            raise InvalidInput(
                f"Facet '{facet_name}' has a single group ({values[int(np.argmax(sizes))]!r}) "
                "among the evaluated rows: there is no rest to compare with."
            )
        chosen = _choose(values, sizes, facet_values, facet_name)

    k = len(values)
    counts = np.bincount(groups * 4 + t * 2 + p, minlength=4 * k).reshape(k, 4)
    total = counts.sum(axis=0)
    facets = []
    for i in chosen:
        cd, ca = counts[i].astype(np.float64), (total - counts[i]).astype(np.float64)
        desc = f"> {threshold}" if threshold is not None else f"= {values[i]!r}"
        n_d = int(cd.sum())
        facets.append(
            {
                "value": threshold if threshold is not None else values[i],
                "description": desc,
                "n_d": n_d,
                "n_a": n - n_d,
                "positive_rate_d": float((cd[_TP] + cd[_FN]) / n_d),
                "positive_rate_a": float((ca[_TP] + ca[_FN]) / (n - n_d)),
                "predicted_positive_rate_d": float((cd[_TP] + cd[_FP]) / n_d),
                "predicted_positive_rate_a": float((ca[_TP] + ca[_FP]) / (n - n_d)),
                "confusion_d": _confusion(counts[i]),
                "confusion_a": _confusion(total - counts[i]),
                "metrics": _metrics(cd, ca, f"{facet_name} {desc}", outcome),
            }
        )
    return {
        "version": POSTTRAINING_VERSION,
        "kind": "shipyard.bias.posttraining",
        "convention": (
            "d = the facet group, a = all other rows; observed and predicted labels binarized "
            "on `positive`"
        ),
        "label": label_name,
        "positive": pos_values,
        "facet": facet_name,
        "threshold": threshold,
        "rows": n,
        "rows_dropped": n_total - n,
        "positive_rate": n_pos / n,
        "predicted_positive_rate": float(p.sum() / n),
        "limits": dict(POSTTRAINING_LIMITS),
        "facets": facets,
    }


def _check_shapes(y_true: np.ndarray, y_pred: np.ndarray, facet: np.ndarray) -> None:
    arrays = {"y_true": y_true, "y_pred": y_pred, "facet": facet}
    for name, arr in arrays.items():
        if arr.ndim != 1:
            raise InvalidInput(
                f"{name} must be one-dimensional (one value per row). Got shape {arr.shape}."
            )
    lengths = {name: arr.size for name, arr in arrays.items()}
    if len(set(lengths.values())) > 1:
        got = ", ".join(f"{name} {size:,}" for name, size in lengths.items())
        raise InvalidInput(
            f"y_true, y_pred and facet must have one value per row, the same length. Got {got}."
        )


def _binarize(
    values: np.ndarray, wanted: list[Any]
) -> tuple[np.ndarray, np.ndarray, list[Any], list[Any]]:
    """``(present, positive, matched values, distinct values)``; one comparison per class."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    classes = np.asarray(uniques, dtype=object)
    hit = np.zeros(classes.size, dtype=bool)
    for w in wanted:
        exact = np.fromiter((bool(c == w) for c in classes), dtype=bool, count=classes.size)
        hit |= exact if exact.any() else classes.astype(str) == str(w)
    present = codes >= 0
    positive = np.zeros(codes.shape, dtype=bool)
    positive[present] = hit[codes[present]]
    return present, positive, list(classes[hit]), list(classes)


def _threshold_groups(
    facet: np.ndarray, threshold: float, facet_name: str
) -> tuple[np.ndarray, list[int], list[Any]]:
    """Group codes 1 for ``facet > threshold`` and 0 for the rest; the facet group is 1."""
    try:
        above = np.asarray(facet, dtype=np.float64) > float(threshold)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"threshold needs a numeric facet, but '{facet_name}' holds values such as "
            f"{json_value(facet[0])!r}. Use facet_values instead."
        ) from exc
    n_above = int(above.sum())
    if n_above == 0:
        raise InvalidInput(
            f"No evaluated row has {facet_name} > {threshold}. Pick a lower threshold."
        )
    if n_above == above.size:
        raise InvalidInput(
            f"Every evaluated row has {facet_name} > {threshold}: there is no rest to compare "
            "with. Pick a higher threshold."
        )
    return above.astype(np.int64), [1], [False, True]


def _choose(
    values: list[Any], sizes: np.ndarray, facet_values: Sequence[Any] | None, facet_name: str
) -> list[int]:
    """Indices of the facet values to report, in the order asked (default: most rows first)."""
    order = sorted(range(len(values)), key=lambda i: (-sizes[i], str(values[i])))
    if facet_values is None:
        return order[:MAX_FACET_VALUES]
    wanted = [facet_values] if isinstance(facet_values, str | bytes) else list(facet_values)
    if not wanted:
        raise InvalidInput("facet_values is empty. Give at least one value, or leave it out.")
    present = [values[i] for i in order if sizes[i] > 0]
    chosen: list[int] = []
    for w in wanted:
        hit = match_value(w, present)
        if hit is None:
            shown = ", ".join(map(repr, present[:20]))
            raise InvalidInput(
                f"Facet value {w!r} does not occur in '{facet_name}' among the evaluated rows. "
                f"Values: {shown}." + did_you_mean(str(w), map(str, present))
            )
        i = values.index(hit)
        if i not in chosen:
            chosen.append(i)
    return chosen


def _confusion(row: np.ndarray) -> dict[str, int]:
    return {"tp": int(row[_TP]), "fp": int(row[_FP]), "fn": int(row[_FN]), "tn": int(row[_TN])}


# Per-group rates as (numerator cells, denominator cells, why it can be undefined).
_RATES: dict[str, tuple[tuple[int, ...], tuple[int, ...], str]] = {
    "q": ((_TP, _FP), (_TN, _FP, _FN, _TP), ""),
    "acc": ((_TP, _TN), (_TN, _FP, _FN, _TP), ""),
    "c": ((_TP, _FN), (_TP, _FP), "the model predicts {label} for none of {who}"),
    "precision": ((_TP,), (_TP, _FP), "the model predicts {label} for none of {who}"),
    "r": ((_TN, _FP), (_TN, _FN), "the model predicts {label} for all of {who}"),
    "npv": ((_TN,), (_TN, _FN), "the model predicts {label} for all of {who}"),
    "recall": ((_TP,), (_TP, _FN), "{who} has no observed {label}"),
    "tau": ((_FN,), (_FP,), "the model makes no false positive for {who}"),
}

# Differences of rates: (rate, True when d comes first, what the facts say, the word for a
# positive difference, the word for a negative one). Percent rates read as point gaps.
_GAPS = {
    "DPPL": (
        "q",
        False,
        "The model predicts {label} for {d} of {group} and {a} of the rest",
        "less often",
        "more often",
    ),
    "RD": (
        "recall",
        False,
        "The model finds {d} of the actual {label} in {group} and {a} in the rest",
        "lower",
        "higher",
    ),
    "DAR": (
        "precision",
        False,
        "Of the predicted positives, {d} are right in {group} and {a} in the rest",
        "less often right",
        "more often right",
    ),
    "DRR": (
        "npv",
        True,
        "Of the predicted negatives, {d} are right in {group} and {a} in the rest",
        "more often right",
        "less often right",
    ),
    "AD": (
        "acc",
        False,
        "The model is right for {d} of {group} and {a} of the rest",
        "less accurate",
        "more accurate",
    ),
    "DCAcc": (
        "c",
        False,
        "Observed positives per predicted positive: {d} in {group}, {a} in the rest",
        "Given the labels, the model predicts {label} for the group more readily",
        "Given the labels, the model predicts {label} for the group less readily",
    ),
    "DCR": (
        "r",
        True,
        "Observed negatives per predicted negative: {d} in {group}, {a} in the rest",
        "Given the labels, the model rejects the group less readily",
        "Given the labels, the model rejects the group more readily",
    ),
    "TE": (
        "tau",
        True,
        "Missed positives per false alarm: {d} in {group}, {a} in the rest",
        "the group's errors lean more towards missed positives",
        "the group's errors lean more towards false alarms",
    ),
}
_PERCENT_RATES = {"q", "acc", "precision", "npv", "recall"}


def _metrics(cd: np.ndarray, ca: np.ndarray, group: str, label: str) -> dict[str, dict]:
    """The nine metrics for group ``d`` (confusion row ``cd``) against the rest (``ca``).

    ``label`` names the positive outcome in readings, e.g. ``"hired = 1"``.
    """
    both = np.stack([cd, ca])
    rates: dict[str, tuple[float | None, float | None]] = {}
    for name, (num, den, _) in _RATES.items():
        top, bottom = both[:, list(num)].sum(axis=1), both[:, list(den)].sum(axis=1)
        rates[name] = (
            float(top[0] / bottom[0]) if bottom[0] > 0 else None,
            float(top[1] / bottom[1]) if bottom[1] > 0 else None,
        )
    out = {key: _gap_metric(key, rates, group, label) for key in _GAPS}
    out["DI"] = _di(*rates["q"], group, label)
    return {key: out[key] for key in POSTTRAINING_LIMITS}


def _gap_metric(
    key: str, rates: dict[str, tuple[float | None, float | None]], group: str, label: str
) -> dict[str, Any]:
    rate, d_first, facts, if_pos, if_neg = _GAPS[key]
    x_d, x_a = rates[rate]
    if x_d is None or x_a is None:
        who = " or ".join(w for w, x in ((group, x_d), ("the rest", x_a)) if x is None)
        why = _RATES[rate][2].format(label=label, who=who)
        return _entry(key, None, f"Undefined: {why}.")
    value = x_d - x_a if d_first else x_a - x_d
    percent = rate in _PERCENT_RATES
    shown = (_pct(x_d), _pct(x_a)) if percent else (f"{x_d:.2f}", f"{x_a:.2f}")
    reading = facts.format(label=label, group=group, d=shown[0], a=shown[1])
    word = (if_pos if value > 0 else if_neg).format(label=label)
    if not value:
        reading += ": the same for both."
    elif percent:
        reading += f": {abs(100 * value):.1f} points {word} for the group."
    else:
        reading += f". {word[0].upper()}{word[1:]}."
    return _entry(key, value, reading)


def _di(q_d: float | None, q_a: float | None, group: str, label: str) -> dict[str, Any]:
    limit = POSTTRAINING_LIMITS["DI"]
    if not q_a:
        return _entry(
            "DI",
            None,
            f"Undefined: the model predicts {label} for none of the rest"
            + (f", but does for {_pct(q_d)} of {group}." if q_d else ", nor of the group."),
            flag=bool(q_d),
        )
    di = (q_d or 0.0) / q_a
    reading = (
        f"{group} gets {label} {di:.2f} times as often as the rest ({_pct(q_d)} vs "
        f"{_pct(q_a)}); the four-fifths rule flags a ratio under {limit:g} or over "
        f"{1 / limit:.2f}."
    )
    return _entry("DI", di, reading, flag=di < limit or di > 1 / limit)


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _entry(key: str, value: float | None, reading: str, flag: bool | None = None) -> dict:
    # Rounded so that a gap of exactly the limit (0.4 - 0.3) is flagged despite float error.
    value = round(value, 12) if value is not None else None
    return metric_entry(
        _NAMES[key], value, _RANGES[key], POSTTRAINING_LIMITS[key], reading, flag=flag
    )
