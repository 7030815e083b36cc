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
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

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
    names = dataset.schema.names
    require_columns([label], names, role="label")
    require_columns([facet], names, role="facet")
    if group is not None:
        require_columns([group], names, role="group")
    for column, role in ((label, "label"), (facet, "facet"), (group, "group")):
        if column is not None:
            require_groupable(column, dataset.schema.field(column).type, role=role)
    rule = rule or FlagRule()
    if threshold is not None and facet_values is not None:
        raise InvalidInput(
            "Give either facet_values (a categorical facet) or threshold (a numeric one), not both."
        )
    ftype = dataset.schema.field(facet).type
    if threshold is not None and not (_is_numeric(ftype) or pa.types.is_temporal(ftype)):
        raise InvalidInput(
            f"threshold needs a numeric facet, but '{facet}' is {ftype}. Use facet_values instead."
        )

    fcol, lcol = sql_ident(facet), sql_ident(label)
    gcol = sql_ident(group) if group is not None else "NULL"
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
            f"Could not compare facet '{facet}' ({ftype}) with threshold {threshold!r}: {exc}. "
            "Give a threshold of the facet's type."
        ) from exc
    finally:
        con.close()
    n_total = int(total[0]) if total else 0
    if n_total == 0 or not rows:
        raise InvalidInput(
            f"No rows to measure bias on: the dataset has {n_total:,} rows"
            + (f", none with both '{label}' and '{facet}' present" if n_total else "")
            + ". Use a version with labelled rows."
        )
    f_vals = [r[0] for r in rows]
    y_vals = [r[1] for r in rows]
    counts = np.array([r[3] for r in rows], dtype=np.float64)

    label_values = list(dict.fromkeys(y_vals))
    wanted = list(positive) if isinstance(positive, list | tuple | set) else [positive]
    pos_values = []
    for w in wanted:
        hit = match_value(w, label_values)
        if hit is None:
            raise NotFound(
                f"Positive label value {w!r} does not occur in '{label}'. "
                f"Values: {', '.join(map(repr, label_values[:20]))}."
            )
        pos_values.append(hit)
    is_pos = np.array([y in pos_values for y in y_vals])
    n_pos = counts[is_pos].sum()
    if n_pos == 0 or n_pos == counts.sum():
        raise InvalidInput(
            f"Label '{label}' has a single class once binarized (positive = {pos_values!r}): "
            "bias metrics compare positive rates, so both classes must occur."
        )

    g_keys = [r[2] for r in rows]
    strata = list(dict.fromkeys(g_keys))
    g_idx = (
        np.array([strata.index(g) for g in g_keys])
        if group is not None
        else np.zeros(len(rows), dtype=np.int64)
    )
    k = len(strata) if group is not None else 1
    g_tot = np.bincount(g_idx, weights=counts, minlength=k)
    g_pos = np.bincount(g_idx, weights=counts * is_pos, minlength=k)

    by_size: dict[Any, float] = {}
    for f, c in zip(f_vals, counts, strict=True):
        by_size[f] = by_size.get(f, 0.0) + c
    if threshold is not None:
        chosen = [True]
        if True not in by_size:
            raise NotFound(f"No row has {facet} > {threshold}. Pick a lower threshold.")
    elif facet_values is not None:
        chosen = []
        for w in facet_values:
            hit = match_value(w, list(by_size))
            if hit is None:
                shown = ", ".join(map(repr, sorted(by_size, key=lambda v: -by_size[v])[:20]))
                raise NotFound(
                    f"Facet value {w!r} does not occur in column '{facet}'. Values: {shown}."
                )
            chosen.append(hit)
    else:
        chosen = sorted(by_size, key=lambda v: (-by_size[v], str(v)))[:MAX_FACET_VALUES]

    groups = []
    n = counts.sum()
    for value in chosen:
        in_d = np.array([f == value for f in f_vals])
        d_tot = np.bincount(g_idx[in_d], weights=counts[in_d], minlength=k)
        d_pos = np.bincount(g_idx[in_d], weights=(counts * is_pos)[in_d], minlength=k)
        n_d = float(d_tot.sum())
        if n_d == n:
            raise InvalidInput(
                f"Every labelled row has {facet} "
                + (f"> {threshold}" if threshold is not None else f"= {value!r}")
                + ": there is no rest to compare with."
            )
        desc = f"> {threshold}" if threshold is not None else f"= {value!r}"
        groups.append(
            {
                "value": threshold if threshold is not None else json_value(value),
                "description": desc,
                "n_d": int(n_d),
                "n_a": int(n - n_d),
                "positives_d": int(d_pos.sum()),
                "positives_a": int(g_pos.sum() - d_pos.sum()),
                "positive_rate_d": float(d_pos.sum() / n_d),
                "positive_rate_d_ci95": list(stats.wilson_interval(int(d_pos.sum()), int(n_d))),
                "positive_rate_a": float((g_pos.sum() - d_pos.sum()) / (n - n_d)),
                "metrics": _facet_metrics(
                    d_pos, d_tot, g_pos, g_tot, group, rule, tests=len(chosen)
                ),
            }
        )
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
        "facets": groups,
    }


def _is_numeric(t: pa.DataType) -> bool:
    return bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t))
