"""The nine post-training bias metrics of one facet group, with readings and verdicts.

The formulas and conventions are in :mod:`shipyard.analyze.posttraining`; the flag rule in
:mod:`shipyard.analyze._bias_tests`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shipyard.analyze._bias_common import metric_entry
from shipyard.analyze._bias_tests import FlagRule, log_ratio_test, rate_test

__all__ = ["POSTTRAINING_METRICS", "TESTS_PER_GROUP", "metrics"]

# The metrics, in report order. Each is judged by the test of its underlying per-group rate
# (see _bias_tests: a ratio of the rarer outcome's rates outside [0.8, 1.25], beyond chance,
# with enough support), except DPPL: it compares the same predicted positive rates as DI, the
# four-fifths ratio, which carries that verdict so that one finding is not flagged twice.
POSTTRAINING_METRICS: tuple[str, ...] = (
    "DPPL", "DI", "DCAcc", "DCR", "RD", "DAR", "DRR", "AD", "TE"
)  # fmt: skip
# Tests per facet group, for the Bonferroni level: every metric but DPPL.
TESTS_PER_GROUP = len(POSTTRAINING_METRICS) - 1

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


# The two outcomes each rate counts, as evidence texts name them (success first); for a ratio
# of counts, its top and bottom.
_WORDS = {
    "q": ("predicted positive", "predicted negative"),
    "acc": ("right", "wrong"),
    "precision": ("right", "false alarms"),
    "npv": ("right", "missed"),
    "recall": ("found", "missed"),
    "c": ("observed positives", "predicted positives"),
    "r": ("observed negatives", "predicted negatives"),
    "tau": ("FN", "FP"),
}


def metrics(
    cd: np.ndarray, ca: np.ndarray, group: str, label: str, rule: FlagRule, tests: int
) -> dict[str, dict]:
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
    out = {}
    for key in POSTTRAINING_METRICS:
        rate = "q" if key == "DI" else _GAPS[key][0]
        evidence = None if key == "DPPL" else _evidence(rate, cd, ca, rule, tests)
        if key == "DI":
            out[key] = _di(*rates["q"], group, label, evidence, rule)
        else:
            out[key] = _gap_metric(key, rates, group, label, evidence)
    return out


def _evidence(
    rate: str, cd: np.ndarray, ca: np.ndarray, rule: FlagRule, tests: int
) -> dict[str, Any]:
    """The test of one per-group rate: two proportions, or a ratio of counts (c, r, tau)."""
    num, den, _ = _RATES[rate]
    (k_d, k_a), (n_d, n_a) = (
        [float(c[list(cells)].sum()) for c in (cd, ca)] for cells in (num, den)
    )
    if set(num) <= set(den):
        return rate_test(k_d, n_d, k_a, n_a, words=_WORDS[rate], rule=rule, tests=tests)
    shared = list(set(num) & set(den))
    s_d, s_a = (float(c[shared].sum()) if shared else 0.0 for c in (cd, ca))
    top, bottom = _WORDS[rate]
    return log_ratio_test(
        (k_d, n_d, s_d),
        (k_a, n_a, s_a),
        counts={top: (int(k_d), int(k_a)), bottom: (int(n_d), int(n_a))},
        rows=int(cd.sum()),
        rule=rule,
        tests=tests,
    )


def _gap_metric(
    key: str,
    rates: dict[str, tuple[float | None, float | None]],
    group: str,
    label: str,
    evidence: dict[str, Any] | None,
) -> dict[str, Any]:
    rate, d_first, facts, if_pos, if_neg = _GAPS[key]
    x_d, x_a = rates[rate]
    if x_d is None or x_a is None:
        who = " or ".join(w for w, x in ((group, x_d), ("the rest", x_a)) if x is None)
        why = _RATES[rate][2].format(label=label, who=who)
        return _entry(key, None, f"Undefined: {why}.", evidence)
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
    return _entry(key, value, reading, evidence)


def _di(
    q_d: float | None,
    q_a: float | None,
    group: str,
    label: str,
    evidence: dict[str, Any] | None,
    rule: FlagRule,
) -> dict[str, Any]:
    if not q_a:
        return _entry(
            "DI",
            None,
            f"Undefined: the model predicts {label} for none of the rest"
            + (f", but does for {_pct(q_d)} of {group}." if q_d else ", nor of the group."),
            evidence,
        )
    di = (q_d or 0.0) / q_a
    reading = (
        f"{group} gets {label} {di:.2f} times as often as the rest ({_pct(q_d)} vs "
        f"{_pct(q_a)}); the four-fifths rule calls a ratio under {rule.ratio:g} or over "
        f"{1 / rule.ratio:.2f} material."
    )
    return _entry("DI", di, reading, evidence)


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _entry(key: str, value: float | None, reading: str, evidence: dict[str, Any] | None) -> dict:
    # Rounded so that 0.6 - 0.5 reads as 0.1, not 0.09999999999999998.
    value = round(value, 12) if value is not None else None
    return metric_entry(
        _NAMES[key],
        value,
        _RANGES[key],
        reading,
        evidence=evidence,
        judged_by="DI" if key == "DPPL" else None,
    )
