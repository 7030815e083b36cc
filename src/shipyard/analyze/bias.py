"""Pre-training bias metrics, as SageMaker Clarify defines them.

Convention (Clarify's): for each facet value, ``d`` is the facet group (the rows whose facet
equals that value, or is greater than ``threshold`` for a continuous facet: Clarify's
"sensitive" group) and ``a`` is every other row (the "advantaged" rest). The label is binarized:
positive when its value is one of ``positive``. With ``n`` counts, ``q`` positive rates and
``P`` the label distributions over (negative, positive):

- CI   = (n_a - n_d) / (n_a + n_d)                         class imbalance, in [-1, 1]
- DPL  = q_a - q_d                                         difference in positive proportions
- KL   = sum_y P_a(y) ln(P_a(y) / P_d(y))
- JS   = (KL(P_a, M) + KL(P_d, M)) / 2, M = (P_a + P_d)/2  in [0, ln 2]
- LP   = sqrt(sum_y (P_a(y) - P_d(y))^2)                   L2 norm, in [0, sqrt 2]
- TVD  = sum_y |P_a(y) - P_d(y)| / 2                       in [0, 1]
- KS   = max_y |P_a(y) - P_d(y)|                           in [0, 1]
- CDDL = sum_i n_i DD_i / n over the ``group`` strata,     in [-1, 1]
         DD_i = n_d^(0)_i / n^(0)_i - n_d^(1)_i / n^(1)_i  (a term with an empty denominator is 0)

As in Clarify, KL, JS, LP, TVD and KS sum over the outcomes that both groups have (a group
with a single outcome leaves one term, not renormalized). Continuous facets use ``> threshold``
as Clarify's threshold intervals do. Counts come from one DuckDB aggregation over the Parquet
files; the metrics from that small table. Rows with a null label or facet are left out (and
counted in ``rows_dropped``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from shipyard._labels import boolean_hint
from shipyard.analyze import stats
from shipyard.analyze._bias_common import (
    MAX_FACET_VALUES,
    json_value,
    match_value,
    metric_entry,
    require_groupable,
)
from shipyard.analyze._bias_tests import FlagRule, rate_test
from shipyard.analyze._io import (
    Paths,
    duckdb_connect,
    open_dataset,
    require_columns,
    sql_ident,
    sql_source,
)
from shipyard.errors import InvalidInput, NotFound

__all__ = ["BIAS_METRICS", "BIAS_VERSION", "pretraining_bias"]

BIAS_VERSION = 2

# The metrics, in report order. Only DPL is judged (see _bias_tests: a rate ratio, a test and
# enough support), because with a binarized label KL, JS, LP, TVD and KS are functions of the
# same two positive rates: flagging them too would repeat one finding six times. CI is the
# facet group's share of rows, a fact about representation rather than a bias in labels: a
# country that is 2% of subscribers is not a problem in itself, and the one way its size does
# matter (metrics on few rows are noise) is handled by DPL's support rule, which reports such
# a group as "too few to judge". So CI is information, never a flag. CDDL is bounded by the
# group's share of rows, so no fixed limit fits every group size; it is information too.
BIAS_METRICS: tuple[str, ...] = ("CI", "DPL", "KL", "JS", "LP", "TVD", "KS", "CDDL")

_RANGES = {
    "CI": "[-1, 1]",
    "DPL": "[-1, 1]",
    "KL": "[0, +inf)",
    "JS": "[0, ln 2]",
    "LP": "[0, sqrt 2]",
    "TVD": "[0, 1]",
    "KS": "[0, 1]",
    "CDDL": "[-1, 1]",
}
_NAMES = {
    "CI": "Class imbalance",
    "DPL": "Difference in proportions of labels",
    "KL": "Kullback-Leibler divergence",
    "JS": "Jensen-Shannon divergence",
    "LP": "Lp-norm (L2)",
    "TVD": "Total variation distance",
    "KS": "Kolmogorov-Smirnov distance",
    "CDDL": "Conditional demographic disparity in labels",
}


def _metric(
    key: str, value: float | None, reading: str, evidence: dict | None = None
) -> dict[str, Any]:
    judged_by = "DPL" if key in ("KL", "JS", "LP", "TVD", "KS") else None
    return metric_entry(
        _NAMES[key], value, _RANGES[key], reading, evidence=evidence, judged_by=judged_by
    )


def _facet_metrics(
    d_pos: np.ndarray,
    d_tot: np.ndarray,
    g_pos: np.ndarray,
    g_tot: np.ndarray,
    group: str | None,
    rule: FlagRule,
    tests: int,
) -> dict[str, dict]:
    """Metrics for one facet group from per-stratum counts (arrays over ``group`` strata)."""
    n_d, n = float(d_tot.sum()), float(g_tot.sum())
    n_a = n - n_d
    pos_d, pos = float(d_pos.sum()), float(g_pos.sum())
    pos_a = pos - pos_d
    q_a, q_d = pos_a / n_a, pos_d / n_d
    p_a = np.array([1 - q_a, q_a])
    p_d = np.array([1 - q_d, q_d])
    # Clarify compares the label distributions only over outcomes both groups have, without
    # renormalizing (its pdfs_aligned_nonzero); with both classes on both sides that is all.
    both = (p_a > 0) & (p_d > 0)
    pa, pd_ = p_a[both], p_d[both]
    ci = (n_a - n_d) / n
    dpl = q_a - q_d
    if both.any():
        m = (pa + pd_) / 2
        kl = float(np.sum(pa * np.log(pa / pd_)))
        js = float(0.5 * (np.sum(pa * np.log(pa / m)) + np.sum(pd_ * np.log(pd_ / m))))
        lp = float(np.linalg.norm(pa - pd_, 2))
        tvd = float(0.5 * np.abs(pa - pd_).sum())
        ks = float(np.max(np.abs(pa - pd_)))
    else:
        kl = js = lp = tvd = ks = math.nan
    share = 100 * n_d / n
    who = "under" if ci > 0 else "over"
    differ = "differ by {:.4f} (0 means identical)."
    m = {
        "CI": _metric(
            "CI",
            ci,
            f"The facet group is {share:.1f}% of rows ({int(n_d):,} of {int(n):,}): "
            f"{who}-represented compared with the rest."
            if ci
            else "Both sides are the same size.",
        ),
        "DPL": _metric(
            "DPL",
            dpl,
            f"Positive rate is {100 * q_a:.1f}% in the rest and {100 * q_d:.1f}% in the facet "
            f"group: the group gets the positive label {abs(100 * dpl):.1f} points "
            f"{'less' if dpl > 0 else 'more'} often.",
            rate_test(
                pos_d, n_d, pos_a, n_a, words=("positive", "negative"), rule=rule, tests=tests
            ),
        ),
        "KL": _metric("KL", kl, "Label distributions " + differ.format(kl)),
        "JS": _metric("JS", js, "Label distributions " + differ.format(js)),
        "LP": _metric("LP", lp, "Label distributions " + differ.format(lp)),
        "TVD": _metric("TVD", tvd, "Label distributions " + differ.format(tvd)),
        "KS": _metric("KS", ks, f"Largest gap between the label distributions: {ks:.4f}."),
    }
    if group is not None:
        neg_all, pos_all = g_tot - g_pos, g_pos
        neg_d = d_tot - d_pos
        with np.errstate(invalid="ignore", divide="ignore"):
            share_neg = np.where(neg_all > 0, neg_d / np.maximum(neg_all, 1), 0.0)
            share_pos = np.where(pos_all > 0, d_pos / np.maximum(pos_all, 1), 0.0)
        cddl = float(np.sum(g_tot * (share_neg - share_pos)) / n)
        m["CDDL"] = _metric(
            "CDDL",
            cddl,
            f"Within strata of '{group}', the facet group's share of negative labels "
            f"{'exceeds' if cddl > 0 else 'is below'} its share of positive labels by "
            f"{abs(cddl):.4f} on average. Information: CDDL is bounded by the group's share "
            "of rows, so no one limit fits every group size.",
        )
    return m


@dataclass(frozen=True)
class _Question:
    """What the caller asked for: the label, the facet and its groups, the CDDL strata."""

    label: str
    facet: str
    facet_values: Sequence[Any] | None
    threshold: float | None
    group: str | None

    def describe(self, value: Any) -> str:
        """How a facet group reads in a report, e.g. ``= 'F'`` or ``> 40``."""
        return f"> {self.threshold}" if self.threshold is not None else f"= {value!r}"


@dataclass(frozen=True)
class _Counts:
    """The labelled rows as counts, one entry per (facet value, label, stratum) present."""

    facet_values: list[Any]
    rows: np.ndarray  # how many rows each entry counts
    positive: np.ndarray  # whether each entry's label is positive
    stratum: np.ndarray  # each entry's index among the ``group`` strata (0 without a group)
    strata: int

    def per_stratum(self, where: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(positives, rows)`` per stratum, over the entries ``where`` selects (default all)."""
        keep = np.ones(len(self.rows), dtype=bool) if where is None else where
        idx = self.stratum[keep]
        pos = np.bincount(idx, weights=(self.rows * self.positive)[keep], minlength=self.strata)
        return pos, np.bincount(idx, weights=self.rows[keep], minlength=self.strata)


def pretraining_bias(
    paths: Paths,
    *,
    label: str,
    positive: Any,
    facet: str,
    facet_values: Sequence[Any] | None = None,
    threshold: float | None = None,
    group: str | None = None,
    rule: FlagRule | None = None,
) -> dict[str, Any]:
    """Clarify's pre-training bias metrics for each facet group versus the rest.

    Args:
        paths: The dataset version's Parquet files.
        label: The label column.
        positive: The positive label value, or a list of values that count as positive.
        facet: The sensitive column (e.g. ``"sex"``, ``"age"``).
        facet_values: Facet values to report, each against all other rows (default: every
            value, the most frequent ``MAX_FACET_VALUES`` first).
        threshold: For a numeric facet: the group is ``facet > threshold`` (Clarify's rule).
        group: A column to condition on for CDDL (e.g. a region); CDDL is left out without it.
        rule: When DPL is flagged (default :class:`FlagRule`): a positive-rate ratio outside
            [0.8, 1.25], beyond chance over all the groups reported, with enough support.

    Returns:
        ``{"version", "label", "positive", "facet", "rows", "facets": [{"value",
        "description", "n_d", "n_a", "positive_rate_d", "metrics": {"CI": {"value", "range",
        "reading", "flag", "status", "evidence", "name"}, ...}}], "rule": {...}}``, JSON-able;
        ``status`` is flagged, ok, not significant, too few or info.

    Raises:
        NotFound: An unknown column, a facet value or positive label value that never occurs.
        InvalidInput: A label, facet or group column of a nested type (list, struct), no
            rows, a label with a single class, a facet group that is every row, ``threshold``
            with ``facet_values`` or on a non-numeric facet.
    """
    dataset, files = open_dataset(paths)
    question = _Question(label, facet, facet_values, threshold, group)
    ftype = _check_question(dataset.schema, question)
    rule = rule or FlagRule()
    rows, n_total = _aggregate(files, question, ftype)
    pos_values = _positive_values(positive, [r[1] for r in rows], label)
    counts = _tabulate(rows, pos_values, group)
    n_pos = counts.rows[counts.positive].sum()
    if n_pos == 0 or n_pos == counts.rows.sum():
        raise InvalidInput(
            f"Label '{label}' has a single class once binarized (positive = {pos_values!r}): "
            "bias metrics compare positive rates, so both classes must occur."
        )
    chosen = _chosen(counts, question)
    n = counts.rows.sum()
    return {
        "version": BIAS_VERSION,
        "kind": "shipyard.bias.pretraining",
        "convention": "d = the facet group, a = all other rows; label binarized on `positive`",
        "label": label,
        "positive": [json_value(v) for v in pos_values],
        "facet": facet,
        "threshold": threshold,
        "group": group,
        "rows": int(n),
        "rows_dropped": n_total - int(n),
        "positive_rate": float(n_pos / n),
        "rule": rule.describe(len(chosen)),
        "facets": [_facet_group(counts, value, question, rule, len(chosen)) for value in chosen],
    }


def _check_question(schema: pa.Schema, question: _Question) -> pa.DataType:
    """The facet's type, once the columns exist and the facet options agree with each other."""
    names = schema.names
    require_columns([question.label], names, role="label")
    require_columns([question.facet], names, role="facet")
    if question.group is not None:
        require_columns([question.group], names, role="group")
    for column, role in (
        (question.label, "label"),
        (question.facet, "facet"),
        (question.group, "group"),
    ):
        if column is not None:
            require_groupable(column, schema.field(column).type, role=role)
    if question.threshold is not None and question.facet_values is not None:
        raise InvalidInput(
            "Give either facet_values (a categorical facet) or threshold (a numeric one), not both."
        )
    ftype = schema.field(question.facet).type
    if question.threshold is not None and not (_is_numeric(ftype) or pa.types.is_temporal(ftype)):
        raise InvalidInput(
            f"threshold needs a numeric facet, but '{question.facet}' is {ftype}. "
            "Use facet_values instead."
        )
    return ftype


def _aggregate(
    files: list[str], question: _Question, ftype: pa.DataType
) -> tuple[list[tuple[Any, ...]], int]:
    """``(facet key, label, stratum, rows)`` counts of the labelled rows, and all rows' count."""
    threshold = question.threshold
    fcol, lcol = sql_ident(question.facet), sql_ident(question.label)
    gcol = sql_ident(question.group) if question.group is not None else "NULL"
    fkey = f"({fcol} > $threshold)" if threshold is not None else fcol
    query = (
        f"SELECT {fkey} AS f, {lcol} AS y, {gcol} AS g, count(*) AS n "
        f"FROM {sql_source(files)} WHERE {fcol} IS NOT NULL AND {lcol} IS NOT NULL "
        "GROUP BY ALL"
    )
    con = duckdb_connect()
    try:
        params = {"threshold": threshold} if threshold is not None else None
        rows = con.execute(query, params).fetchall()
        total = con.execute(f"SELECT count(*) FROM {sql_source(files)}").fetchone()
    except duckdb.Error as exc:
        raise InvalidInput(
            f"Could not compare facet '{question.facet}' ({ftype}) with threshold "
            f"{threshold!r}: {exc}. Give a threshold of the facet's type."
        ) from exc
    finally:
        con.close()
    n_total = int(total[0]) if total else 0
    if n_total == 0 or not rows:
        raise InvalidInput(
            f"No rows to measure bias on: the dataset has {n_total:,} rows"
            + (
                f", none with both '{question.label}' and '{question.facet}' present"
                if n_total
                else ""
            )
            + ". Use a version with labelled rows."
        )
    return rows, n_total


def _positive_values(positive: Any, y_vals: list[Any], label: str) -> list[Any]:
    """The label values that count as positive, as the data spells them."""
    label_values = list(dict.fromkeys(y_vals))
    wanted = list(positive) if isinstance(positive, list | tuple | set) else [positive]
    pos_values = []
    for w in wanted:
        hit = match_value(w, label_values)
        if hit is None:
            raise NotFound(
                f"Positive label value {w!r} does not occur in '{label}'. "
                f"Values: {', '.join(map(repr, label_values[:20]))}."
                f"{boolean_hint(label_values)}"
            )
        pos_values.append(hit)
    return pos_values


def _tabulate(rows: list[tuple[Any, ...]], pos_values: list[Any], group: str | None) -> _Counts:
    """The aggregated rows as arrays, with each label binarized and each stratum numbered."""
    y_vals = [r[1] for r in rows]
    g_keys = [r[2] for r in rows]
    strata = list(dict.fromkeys(g_keys))
    g_idx = (
        np.array([strata.index(g) for g in g_keys])
        if group is not None
        else np.zeros(len(rows), dtype=np.int64)
    )
    return _Counts(
        facet_values=[r[0] for r in rows],
        rows=np.array([r[3] for r in rows], dtype=np.float64),
        positive=np.array([y in pos_values for y in y_vals]),
        stratum=g_idx,
        strata=len(strata) if group is not None else 1,
    )


def _chosen(counts: _Counts, question: _Question) -> list[Any]:
    """The facet keys to report: the asked ones, or the most frequent ``MAX_FACET_VALUES``."""
    by_size: dict[Any, float] = {}
    for f, c in zip(counts.facet_values, counts.rows, strict=True):
        by_size[f] = by_size.get(f, 0.0) + c
    if question.threshold is not None:
        if True not in by_size:
            raise NotFound(
                f"No row has {question.facet} > {question.threshold}. Pick a lower threshold."
            )
        return [True]
    if question.facet_values is None:
        return sorted(by_size, key=lambda v: (-by_size[v], str(v)))[:MAX_FACET_VALUES]
    chosen = []
    for w in question.facet_values:
        hit = match_value(w, list(by_size))
        if hit is None:
            shown = ", ".join(map(repr, sorted(by_size, key=lambda v: -by_size[v])[:20]))
            raise NotFound(
                f"Facet value {w!r} does not occur in column '{question.facet}'. Values: {shown}."
            )
        chosen.append(hit)
    return chosen


def _facet_group(
    counts: _Counts, value: Any, question: _Question, rule: FlagRule, tests: int
) -> dict[str, Any]:
    """One facet group's sizes, positive rates and metrics against the rest."""
    g_pos, g_tot = counts.per_stratum()
    d_pos, d_tot = counts.per_stratum(np.array([f == value for f in counts.facet_values]))
    n = counts.rows.sum()
    n_d = float(d_tot.sum())
    if n_d == n:
        raise InvalidInput(
            f"Every labelled row has {question.facet} "
            + question.describe(value)
            + ": there is no rest to compare with."
        )
    return {
        "value": question.threshold if question.threshold is not None else json_value(value),
        "description": question.describe(value),
        "n_d": int(n_d),
        "n_a": int(n - n_d),
        "positives_d": int(d_pos.sum()),
        "positives_a": int(g_pos.sum() - d_pos.sum()),
        "positive_rate_d": float(d_pos.sum() / n_d),
        "positive_rate_d_ci95": list(stats.wilson_interval(int(d_pos.sum()), int(n_d))),
        "positive_rate_a": float((g_pos.sum() - d_pos.sum()) / (n - n_d)),
        "metrics": _facet_metrics(d_pos, d_tot, g_pos, g_tot, question.group, rule, tests=tests),
    }


def _is_numeric(t: pa.DataType) -> bool:
    return bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t))
