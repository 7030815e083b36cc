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
and infinity is not JSON. DI with ``q^_a = 0 < q^_d`` is ``None`` but can be flagged. Rows
with a missing facet, label or prediction are left out (counted in ``rows_dropped``).

Flags are not Clarify's fixed limits on these differences, which mean nothing at a 1% base
rate; see :mod:`shipyard.analyze._bias_tests` for the rule and its evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shipyard.analyze._bias_common import MAX_FACET_VALUES, json_value, match_value
from shipyard.analyze._bias_tests import FlagRule
from shipyard.analyze._posttraining_metrics import (
    _FN,
    _FP,
    _TN,
    _TP,
    POSTTRAINING_METRICS,
    TESTS_PER_GROUP,
    metrics,
)
from shipyard.errors import InvalidInput, did_you_mean

__all__ = ["POSTTRAINING_METRICS", "POSTTRAINING_VERSION", "posttraining_bias"]

POSTTRAINING_VERSION = 2


@dataclass(frozen=True)
class _Rows:
    """The evaluated rows (with a label, a prediction and a facet value), binarized."""

    keep: np.ndarray  # over all rows: whether the row is evaluated
    observed: np.ndarray  # over evaluated rows: the observed label is positive
    predicted: np.ndarray  # over evaluated rows: the predicted label is positive
    facet_codes: np.ndarray  # over evaluated rows: the facet value's index in facet_uniques
    facet_uniques: Any
    positive: list[Any]  # the positive values that occur, JSON-ready, in the caller's order
    outcome: str  # the positive outcome as readings name it, e.g. "hired = 1"
    total: int  # all rows, evaluated or not


@dataclass(frozen=True)
class _Groups:
    """The facet groups: a group code per evaluated row, and the groups to report."""

    codes: np.ndarray
    values: list[Any]
    chosen: list[int]
    threshold: float | None

    @property
    def tests(self) -> int:
        """Tests in the whole report, for the Bonferroni level."""
        return TESTS_PER_GROUP * len(self.chosen)

    def value(self, i: int) -> Any:
        """Group ``i``'s facet value as the report shows it (the threshold for ``> t``)."""
        return self.threshold if self.threshold is not None else self.values[i]

    def describe(self, i: int) -> str:
        """How group ``i`` reads in a report, e.g. ``= 'F'`` or ``> 40``."""
        return f"> {self.threshold}" if self.threshold is not None else f"= {self.values[i]!r}"


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
    rule: FlagRule | None = None,
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
        rule: When a metric is flagged (default :class:`FlagRule`): a rate ratio outside
            [0.8, 1.25], beyond chance over all the tests reported, with enough support.

    Returns:
        ``{"version", "kind", "label", "positive", "facet", "threshold", "rows",
        "rows_dropped", "positive_rate", "predicted_positive_rate", "limits", "facets":
        [{"value", "description", "n_d", "n_a", "positive_rate_d", "positive_rate_a",
        "predicted_positive_rate_d", "predicted_positive_rate_a", "confusion_d",
        "confusion_a", "metrics": {"DPPL": {"name", "value", "range", "flag", "status",
        "evidence", "reading"}, ...}}], "rule": {...}}``, JSON-able; an undefined metric has
        ``value`` None.

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
    rows = _evaluated_rows(y_true, y_pred, facet, positive, facet_name, label_name)
    groups = _facet_groups(facet, rows, threshold, facet_values, facet_name)
    rule = rule or FlagRule()
    n = int(rows.observed.size)
    return {
        "version": POSTTRAINING_VERSION,
        "kind": "shipyard.bias.posttraining",
        "convention": (
            "d = the facet group, a = all other rows; observed and predicted labels binarized "
            "on `positive`"
        ),
        "label": label_name,
        "positive": rows.positive,
        "facet": facet_name,
        "threshold": threshold,
        "rows": n,
        "rows_dropped": rows.total - n,
        "positive_rate": int(rows.observed.sum()) / n,
        "predicted_positive_rate": float(rows.predicted.sum() / n),
        "rule": rule.describe(groups.tests),
        "facets": _facet_entries(rows, groups, facet_name, rule),
    }


def _evaluated_rows(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    facet: np.ndarray,
    positive: Sequence[Any],
    facet_name: str,
    label_name: str,
) -> _Rows:
    """The complete rows with their labels binarized; both observed classes must occur."""
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
    pos_values = _positive_values(wanted, [*true_hits, *pred_hits], true_labels, label_name)
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
    return _Rows(keep, t, p, f_codes[keep], f_uniques, pos_values, outcome, n_total)


def _positive_values(
    wanted: list[Any], hits: list[Any], labels: list[Any], label_name: str
) -> list[Any]:
    """The positive values found among the labels, JSON-ready, in the order asked for."""
    found = dict.fromkeys(hits)
    # In the order the caller gave them, not the order the data happens to show them.
    order = sorted(found, key=lambda v: wanted.index(v) if v in wanted else len(wanted))
    pos_values = [json_value(v) for v in order]
    if not pos_values:
        shown = ", ".join(map(repr, (json_value(v) for v in labels[:20])))
        raise InvalidInput(
            f"None of the positive values {wanted!r} occurs in '{label_name}' or its "
            f"predictions. Labels: {shown}."
            + did_you_mean(str(wanted[0]) if wanted else "", map(str, labels))
        )
    return pos_values


def _facet_groups(
    facet: np.ndarray,
    rows: _Rows,
    threshold: float | None,
    facet_values: Sequence[Any] | None,
    facet_name: str,
) -> _Groups:
    """The evaluated rows' facet groups: above and below ``threshold``, or one per value."""
    if threshold is not None:
        codes, chosen, values = _threshold_groups(facet[rows.keep], threshold, facet_name)
        return _Groups(codes, values, chosen, threshold)
    sizes = np.bincount(rows.facet_codes, minlength=len(rows.facet_uniques))
    values = [json_value(v) for v in rows.facet_uniques]
    if np.count_nonzero(sizes) < 2:
        raise InvalidInput(
            f"Facet '{facet_name}' has a single group ({values[int(np.argmax(sizes))]!r}) "
            "among the evaluated rows: there is no rest to compare with."
        )
    chosen = _choose(values, sizes, facet_values, facet_name)
    return _Groups(rows.facet_codes, values, chosen, None)


def _facet_entries(
    rows: _Rows, groups: _Groups, facet_name: str, rule: FlagRule
) -> list[dict[str, Any]]:
    """Each chosen group's rates, confusion counts and metrics against the rest."""
    k = len(groups.values)
    cells = groups.codes * 4 + rows.observed * 2 + rows.predicted
    counts = np.bincount(cells, minlength=4 * k).reshape(k, 4)
    total = counts.sum(axis=0)
    n = int(rows.observed.size)
    facets = []
    for i in groups.chosen:
        cd, ca = counts[i].astype(np.float64), (total - counts[i]).astype(np.float64)
        desc = groups.describe(i)
        n_d = int(cd.sum())
        facets.append(
            {
                "value": groups.value(i),
                "description": desc,
                "n_d": n_d,
                "n_a": n - n_d,
                "positive_rate_d": float((cd[_TP] + cd[_FN]) / n_d),
                "positive_rate_a": float((ca[_TP] + ca[_FN]) / (n - n_d)),
                "predicted_positive_rate_d": float((cd[_TP] + cd[_FP]) / n_d),
                "predicted_positive_rate_a": float((ca[_TP] + ca[_FP]) / (n - n_d)),
                "confusion_d": _confusion(counts[i]),
                "confusion_a": _confusion(total - counts[i]),
                "metrics": metrics(
                    cd, ca, f"{facet_name} {desc}", rows.outcome, rule, groups.tests
                ),
            }
        )
    return facets


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
