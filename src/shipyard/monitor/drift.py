"""Drift between two tables: per column and multivariate, straight from Parquet.

:func:`compare` is the one function the CLI (``shipyard drift``) and the monitors call. Four
DuckDB scans (a reservoir sample and one counting pass per side) hold no whole column in
memory; the tests run on the counts (see :mod:`shipyard.monitor._drift_tests` for how a test
is chosen and why its threshold is what it is).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from shipyard.errors import InvalidInput, require_columns
from shipyard.monitor import _drift_tests as t
from shipyard.monitor._source import DriftInput, describe, resolve

if TYPE_CHECKING:
    from shipyard.monitor._multivariate import Multivariate
    from shipyard.monitor._univariate import Evaluation
    from shipyard.project import Project

__all__ = ["DRIFT_VERSION", "ColumnDrift", "DriftReport", "MultivariateDrift", "compare"]

DRIFT_VERSION = 1
"""Version of the report's JSON layout."""


@dataclass(frozen=True)
class ColumnDrift:
    """One column's verdict.

    Attributes:
        column: The column name.
        kind: ``numeric`` or ``categorical`` (a number with at most 10 distinct values is
            compared as categories; its kind stays ``numeric``).
        test: ``ks``, ``chi_square`` (small samples: p-values decide), ``wasserstein``
            (normalized by the reference's standard deviation) or ``jensen_shannon``
            (base 2) (large samples: distances decide).
        statistic: The test's statistic (KS D, chi-square, or the distance).
        p_value: The test's p-value; for a distance, that of the chi-square test on its bins
            that keeps sampling noise from flagging.
        p_adjusted: ``p_value`` after Holm's correction across the tested columns.
        distance: The effect size whatever the test: normalized Wasserstein or JS distance.
        threshold: What ``statistic`` is compared with: alpha for a test, else the distance
            threshold.
        drifted: Whether the column drifted.
        explanation: One line saying why.
        reference: Summary of the reference side (rows, missing share, mean/std or categories).
        current: The same for the current side.
        plot: What the HTML page draws (densities on shared bins, or category shares).
    """

    column: str
    kind: str
    test: str
    statistic: float
    p_value: float | None
    p_adjusted: float | None
    distance: float
    threshold: float
    drifted: bool
    explanation: str
    reference: dict[str, Any] = field(default_factory=dict)
    current: dict[str, Any] = field(default_factory=dict)
    plot: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MultivariateDrift:
    """Whether the rows as a whole drifted (see :mod:`shipyard.monitor._multivariate`).

    Attributes:
        method: ``domain_classifier``.
        statistic: The classifier's ROC AUC on held-out rows (0.5: indistinguishable).
        p_value: One-sided Mann-Whitney p-value that the AUC is above 0.5.
        p_adjusted: ``p_value`` after Holm's correction, as one more test beside the columns.
        threshold: The AUC at which the data drifts (0.55).
        drifted: AUC at least the threshold and adjusted p-value below alpha.
        explanation: One line saying why.
        rows_per_side: Sampled rows per side (half to train, half to score).
        top_columns: The columns the classifier leans on, with their share of gain.
        correlation_change: The numeric pair whose correlation moved most, or None.
    """

    method: str
    statistic: float
    p_value: float
    p_adjusted: float
    threshold: float
    drifted: bool
    explanation: str
    rows_per_side: int
    top_columns: tuple[tuple[str, float], ...] = ()
    correlation_change: dict[str, Any] | None = None


@dataclass(frozen=True)
class DriftReport:
    """What :func:`compare` found. ``to_dict`` / ``to_json`` give strict JSON (no NaN).

    Attributes:
        reference: The reference side's label (``usage@1``, a query's label).
        current: The current side's label.
        reference_rows: Rows in the reference side.
        current_rows: Rows in the current side.
        columns: One verdict per compared column, in the reference's column order.
        multivariate: The multivariate check, or None when it could not run.
        skipped: Columns not compared, with the reason.
        only_in_reference: Columns the current side lacks.
        only_in_current: Columns the reference side lacks.
        regime: ``tests`` (a side has at most 1,000 rows) or ``distances``.
        alpha: Family-wise error rate of the tests.
        correction: How p-values are adjusted across columns (``holm``).
        n_columns: Columns compared.
        n_drifted: Columns that drifted.
        drifted: Whether any column, or the multivariate check, drifted.
        version: The layout version (:data:`DRIFT_VERSION`).
    """

    reference: str
    current: str
    reference_rows: int
    current_rows: int
    columns: tuple[ColumnDrift, ...]
    multivariate: MultivariateDrift | None
    skipped: dict[str, str]
    only_in_reference: tuple[str, ...]
    only_in_current: tuple[str, ...]
    regime: str
    alpha: float
    correction: str
    n_columns: int
    n_drifted: int
    drifted: bool
    version: int = DRIFT_VERSION

    @property
    def drifted_columns(self) -> tuple[str, ...]:
        """The names of the columns that drifted."""
        return tuple(c.column for c in self.columns if c.drifted)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-able values; NaN and infinities become None."""
        return _strict(asdict(self))

    def to_json(self, **kwargs: Any) -> str:
        """The report as strict JSON text (``json.dumps`` keyword arguments pass through)."""
        return json.dumps(self.to_dict(), allow_nan=False, **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DriftReport:
        """Rebuild a report from :meth:`to_dict`'s output (e.g. one stored in the catalog)."""
        body = dict(data)
        body["columns"] = tuple(ColumnDrift(**c) for c in body["columns"])
        mv = body.get("multivariate")
        if mv is not None:
            mv = dict(mv)
            mv["top_columns"] = tuple(tuple(x) for x in mv.get("top_columns", ()))
            body["multivariate"] = MultivariateDrift(**mv)
        body["only_in_reference"] = tuple(body["only_in_reference"])
        body["only_in_current"] = tuple(body["only_in_current"])
        return cls(**body)

    def to_html(self) -> str:
        """A self-contained HTML page (plots inline, no network)."""
        from shipyard.monitor.drift_html import render_drift_html

        return render_drift_html(self)


def _strict(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _strict(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_strict(v) for v in obj]
    if isinstance(obj, np.generic):
        return _strict(obj.item())
    return obj


def compare(
    project: Project | None,
    reference: str | DriftInput,
    current: str | DriftInput,
    *,
    columns: Sequence[str] | None = None,
    multivariate: bool = True,
    seed: int = 0,
) -> DriftReport:
    """Compare two tables column by column, and as a whole.

    Args:
        project: The project whose datasets the references name (None when both sides are
            queries).
        reference: The baseline: a dataset reference (``usage@1``) or a :class:`DriftInput`.
        current: The data to check, likewise.
        columns: The columns to compare (default: every column both sides have).
        multivariate: Also run the domain-classifier check.
        seed: Seeds the row samples and the classifier.

    Raises:
        NotFound: An unknown dataset, version or column (a close name is suggested).
        InvalidInput: A side is empty, the sides share no column, or a side cannot be read.
    """
    ref_src = resolve(project, reference, "reference")
    cur_src = resolve(project, current, "current")
    sc = _scan_both(ref_src, cur_src, columns, seed)
    plans, bounds = sc.plans, sc.bounds
    (rows_r, rows_c), (sample_r, sample_c) = sc.rows, sc.samples
    from shipyard.monitor._univariate import evaluate

    evaluations = [
        evaluate(
            p,
            (sample_r.column(p.name), sample_c.column(p.name)),
            (sc.counts[0][p.name], sc.counts[1][p.name]),
            sc.rows,
            bounds.get(p.name),
        )
        for p in plans
    ]
    result = None
    if multivariate and plans:
        from shipyard.monitor._multivariate import domain_classifier

        cols = [(p.name, p.kind == "categorical" or p.name not in bounds) for p in plans]
        result = domain_classifier(sample_r, sample_c, cols, seed=seed)
    # The multivariate check is one more hypothesis in the family: the report as a whole
    # raises a false alarm at most alpha of the time.
    adjusted = t.holm([e.p_value for e in evaluations] + ([result.p_value] if result else []))
    verdicts = _verdicts(evaluations, adjusted[: len(evaluations)])
    mv = _multivariate(result, float(adjusted[-1])) if result else None
    n_drifted = sum(v.drifted for v in verdicts)
    return DriftReport(
        reference=ref_src.label,
        current=cur_src.label,
        reference_rows=rows_r,
        current_rows=rows_c,
        columns=tuple(verdicts),
        multivariate=mv,
        skipped=sc.skipped,
        only_in_reference=tuple(c for c in sc.types[0] if c not in sc.types[1]),
        only_in_current=tuple(c for c in sc.types[1] if c not in sc.types[0]),
        regime="tests" if min(rows_r, rows_c) <= t.SMALL_SAMPLE else "distances",
        alpha=t.ALPHA,
        correction="holm",
        n_columns=len(verdicts),
        n_drifted=n_drifted,
        drifted=bool(n_drifted or (mv is not None and mv.drifted)),
    )


@dataclass
class _Scanned:
    """What the four DuckDB scans found on both sides (reference first in each pair)."""

    types: tuple[dict[str, str], dict[str, str]]
    plans: list[Any]
    skipped: dict[str, str]
    bounds: dict[str, Any]
    rows: tuple[int, int]
    samples: tuple[Any, Any]
    counts: tuple[dict[str, Any], dict[str, Any]]


def _scan_both(ref_src: Any, cur_src: Any, columns: Sequence[str] | None, seed: int) -> _Scanned:
    """Plan the columns, sample both sides, then count both sides in one pass each."""
    import duckdb

    from shipyard.monitor import _scan

    con = duckdb.connect(":memory:")
    try:
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar = false")
        types = describe(con, ref_src), describe(con, cur_src)
        plans, skipped = _plan(types[0], types[1], columns, (ref_src.label, cur_src.label))
        rows_r, sample_r = _scan.sample_pass(con, ref_src, plans, "reference", seed=seed)
        # A large current side is sampled during its count pass: bins come from the
        # reference alone, which saves a whole scan of the current side.
        rows_c, sample_c = _scan.sample_pass(
            con, cur_src, plans, "current", seed=seed, only_if_small=True
        )
        for label, n in ((ref_src.label, rows_r), (cur_src.label, rows_c)):
            if n == 0:
                raise InvalidInput(f"{label} has no rows: there is nothing to compare.")
        rows = (rows_r, rows_c)
        plans, bounds = _bounds(plans, (sample_r, sample_c), rows, skipped)
        counts_r, _ = _scan.count_pass(con, ref_src, plans, "reference", bounds)
        keep = None if sample_c is not None else _scan.SAMPLE_ROWS / rows_c
        counts_c, streamed = _scan.count_pass(con, cur_src, plans, "current", bounds, keep=keep)
    finally:
        con.close()
    samples = (sample_r, sample_c if sample_c is not None else streamed)
    return _Scanned(types, plans, skipped, bounds, rows, samples, (counts_r, counts_c))


def _plan(
    ref_types: dict[str, str],
    cur_types: dict[str, str],
    columns: Sequence[str] | None,
    labels: tuple[str, str],
) -> tuple[list[Any], dict[str, str]]:
    """The columns to compare and how, and those skipped with the reason."""
    from shipyard.monitor._scan import ColumnPlan, column_kind

    common = [c for c in ref_types if c in cur_types]
    if columns is not None:
        wanted = list(dict.fromkeys(columns))
        if not wanted:
            raise InvalidInput("The 'columns' parameter of compare is empty. Name a column.")
        require_columns(wanted, list(ref_types), role=f"{labels[0]}")
        require_columns(wanted, list(cur_types), role=f"{labels[1]}")
        common = wanted
    if not common:
        raise InvalidInput(
            f"{labels[0]} and {labels[1]} have no column in common: nothing to compare. "
            f"Columns of {labels[0]}: {', '.join(list(ref_types)[:20])}; of {labels[1]}: "
            f"{', '.join(list(cur_types)[:20])}."
        )
    plans, skipped = [], {}
    for name in common:
        kinds = {column_kind(ref_types[name]), column_kind(cur_types[name])}
        if None in kinds:
            skipped[name] = (
                f"type {ref_types[name]}: dates, times and nested values are not compared"
            )
            continue
        kind = "numeric" if kinds == {"numeric"} else "categorical"
        plans.append(ColumnPlan(name, kind, ref_types[name], cur_types[name]))
    return plans, skipped


MAX_LEVELS = 1000
"""A text column with more distinct values than this in a 20,000-row sample looks like an
identifier or free text: it is skipped, not compared."""


def _bounds(
    plans: list[Any], samples: tuple[Any, Any], rows: tuple[int, int], skipped: dict[str, str]
) -> tuple[list[Any], dict[str, Any]]:
    """Histogram boundaries of the continuous numbers; identifier-like text columns dropped.

    The current sample is None when that side is large (it is sampled while counted): then
    only the reference sample shapes the plan.
    """
    import pyarrow.compute as pc

    from shipyard.monitor._univariate import boundaries_for, is_discrete

    kept, bounds = [], {}
    for p in plans:
        a = samples[0].column(p.name)
        b = samples[1].column(p.name) if samples[1] is not None else None
        if p.kind == "categorical":
            levels = max(pc.count_distinct(x).as_py() for x in (a, b) if x is not None)
            if levels > MAX_LEVELS:
                skipped[p.name] = f"{levels:,}+ distinct values: an identifier or free text?"
                continue
        elif not is_discrete(a, b):
            # One small side next to a large one: its every value becomes a boundary, so the
            # KS statistic read off the counts is exact. (Two small sides are tested directly.)
            one_small = min(rows) <= t.SMALL_SAMPLE < max(rows)
            small = [
                s
                for s, n in zip((a, b), rows, strict=True)
                if s is not None and n <= t.SMALL_SAMPLE
            ]
            edges = boundaries_for(a, b, small if one_small else [])
            if edges.size == 0:
                skipped[p.name] = "no finite value on either side"
                continue
            bounds[p.name] = edges
        kept.append(p)
    return kept, bounds


def _verdicts(evaluations: list[Evaluation], adjusted: Any) -> list[ColumnDrift]:
    """Each column's verdict from its Holm-adjusted p-value, and its one-line reason."""
    m = max(len(evaluations), 1)
    out = []
    for e, p_adj in zip(evaluations, adjusted, strict=True):
        significant = bool(p_adj < t.ALPHA)
        big = e.distance >= e.threshold if e.uses_distance else True
        drifted = significant and big
        missing_moved = _missing_moved(e, m)
        reason = _reason(e, float(p_adj), drifted)
        if missing_moved:
            drifted = True
            reason = missing_moved + ("; " + reason if reason else "")
        out.append(
            ColumnDrift(
                column=e.column,
                kind=e.kind,
                test=e.test,
                statistic=float(e.statistic),
                p_value=float(e.p_value),
                p_adjusted=float(p_adj),
                distance=float(e.distance),
                threshold=float(e.threshold),
                drifted=drifted,
                explanation=reason,
                reference=e.reference,
                current=e.current,
                plot=e.plot,
            )
        )
    return out


def _missing_moved(e: Evaluation, m: int) -> str:
    """A number whose share of missing values moved by 10 points or more (Bonferroni)."""
    if e.missing_p is None:
        return ""
    a, b = e.reference["missing_share"], e.current["missing_share"]
    if abs(b - a) >= t.MISSING_THRESHOLD and e.missing_p < t.ALPHA / m:
        return f"missing {100 * a:.1f}% -> {100 * b:.1f}%"
    return ""


_TESTS = {
    "ks": "KS D",
    "chi_square": "chi-square",
    "wasserstein": "Wasserstein/SD",
    "jensen_shannon": "JS distance",
}


def _reason(e: Evaluation, p_adj: float, drifted: bool) -> str:
    name = _TESTS[e.test]
    if e.uses_distance:
        verdict = (
            f"{name} {e.distance:.3g} {'>=' if e.distance >= e.threshold else '<'} {e.threshold:g}"
        )
        if e.distance >= e.threshold and not drifted:
            verdict += f" but within sampling noise (adjusted p {p_adj:.2g})"
    else:
        verdict = (
            f"{name} {e.statistic:.3g}, adjusted p {p_adj:.2g} "
            f"{'<' if p_adj < e.threshold else '>='} {e.threshold:g}"
        )
    if e.kind == "numeric" and "mean" in e.reference:
        r, c = e.reference, e.current
        detail = f"mean {_g(r['mean'])} -> {_g(c['mean'])}, SD {_g(r['std'])} -> {_g(c['std'])}"
    else:
        detail = "; ".join(e.notes)
    return f"{verdict}: {detail}" if detail else verdict


def _g(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.4g}"


def _multivariate(result: Multivariate, p_adjusted: float) -> MultivariateDrift:
    from shipyard.monitor._multivariate import AUC_THRESHOLD

    drifted = result.auc >= AUC_THRESHOLD and p_adjusted < t.ALPHA
    cmp = ">=" if result.auc >= AUC_THRESHOLD else "<"
    text = f"classifier AUC {result.auc:.3f} {cmp} {AUC_THRESHOLD:g} (adjusted p {p_adjusted:.2g})"
    if drifted and result.top_columns:
        text += "; moved most: " + ", ".join(c for c, _ in result.top_columns)
    change = result.correlation_change
    if (
        change
        and change["reference"] is not None
        and change["current"] is not None
        and abs(change["current"] - change["reference"]) >= 0.1
    ):
        text += (
            f"; largest correlation change {change['columns'][0]}~{change['columns'][1]} "
            f"{change['reference']:.2f} -> {change['current']:.2f}"
        )
    return MultivariateDrift(
        method="domain_classifier",
        statistic=result.auc,
        p_value=result.p_value,
        p_adjusted=p_adjusted,
        threshold=AUC_THRESHOLD,
        drifted=drifted,
        explanation=text,
        rows_per_side=result.rows_per_side,
        top_columns=tuple(result.top_columns),
        correlation_change=change,
    )
