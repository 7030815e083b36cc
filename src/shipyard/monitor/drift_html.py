"""Render a :class:`DriftReport` as a self-contained HTML page (Plotly inline, no network)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shipyard.htmlpage import Page, esc, fmt_num

if TYPE_CHECKING:
    from shipyard.monitor.drift import ColumnDrift, DriftReport

__all__ = ["render_drift_html"]

_REF = "#9aa5b1"
_CUR = "#2186eb"
_MAX_CHARTS = 60
_TESTS = {
    "ks": "Kolmogorov-Smirnov D",
    "chi_square": "chi-square",
    "wasserstein": "Wasserstein / reference SD",
    "jensen_shannon": "Jensen-Shannon distance",
}


def _badge(drifted: bool) -> str:
    return (
        "<span class='badge error'>drift</span>" if drifted else "<span class='badge ok'>ok</span>"
    )


def _cards(report: DriftReport) -> str:
    mv = report.multivariate
    cards = [
        ("columns compared", f"{report.n_columns:,}"),
        ("drifted", f"{report.n_drifted:,}"),
        ("multivariate AUC", "—" if mv is None else f"{mv.statistic:.3f}"),
        ("reference rows", f"{report.reference_rows:,}"),
        ("current rows", f"{report.current_rows:,}"),
    ]
    body = "".join(f"<div class='card'>{esc(k)}<b>{esc(v)}</b></div>" for k, v in cards)
    return f"<div class='cards'>{body}</div>"


def _method(report: DriftReport) -> str:
    if report.regime == "tests":
        how = (
            "A side has at most 1,000 rows, so hypothesis tests decide: Kolmogorov-Smirnov "
            "for numbers, chi-square for categories."
        )
    else:
        how = (
            "Both sides are large, so distances decide: the Wasserstein distance in reference "
            "standard deviations for numbers (drift at 0.1), the Jensen-Shannon distance (base 2) "
            "for categories (drift at 0.1). A distance past its threshold must also be beyond "
            "sampling noise (a chi-square test on its bins)."
        )
    return (
        f"<p class='muted'>{esc(how)} P-values are adjusted across the {report.n_columns} "
        f"columns with Holm's method (family-wise error {report.alpha:g}). A number with at "
        "most 10 distinct values is compared as categories.</p>"
    )


def _table(report: DriftReport) -> str:
    rows = "".join(
        f"<tr{' class=flag' if c.drifted else ''}><td><a href='#c-{esc(c.column)}'>"
        f"{esc(c.column)}</a></td><td>{esc(c.kind)}</td><td>{esc(_TESTS.get(c.test, c.test))}</td>"
        f"<td class='n'>{fmt_num(c.statistic)}</td><td class='n'>{fmt_num(c.threshold)}</td>"
        f"<td class='n'>{fmt_num(c.p_adjusted)}</td><td>{_badge(c.drifted)}</td>"
        f"<td>{esc(c.explanation)}</td></tr>"
        for c in report.columns
    )
    return (
        "<table><tr><th>column</th><th>kind</th><th>test</th><th>value</th><th>threshold</th>"
        f"<th>p (Holm)</th><th></th><th>why</th></tr>{rows}</table>"
    )


def _chart(page: Page, c: ColumnDrift) -> str:
    plot = c.plot
    if plot.get("type") == "density" and len(plot.get("edges", [])) >= 2:
        edges = plot["edges"]
        traces = [
            {
                "type": "scatter",
                "mode": "lines",
                "line": {"shape": "hv", "color": color, "width": 2},
                "fill": "tozeroy" if name == "reference" else "none",
                "name": name,
                "x": edges,
                "y": [*plot[name], plot[name][-1] if plot[name] else 0],
            }
            for name, color in (("reference", _REF), ("current", _CUR))
        ]
        return page.chart(traces, {"yaxis": {"title": {"text": "density"}}, "legend": {"x": 1}})
    if plot.get("type") == "categories" and plot.get("labels"):
        traces = [
            {"type": "bar", "name": name, "x": plot["labels"], "y": plot[name],
             "marker": {"color": color}}
            for name, color in (("reference", _REF), ("current", _CUR))
        ]  # fmt: skip
        layout = {
            "barmode": "group",
            "xaxis": {"type": "category"},
            "yaxis": {"title": {"text": "share"}, "tickformat": ".0%"},
        }
        if plot.get("others"):
            shown = len(plot["labels"])
            layout["title"] = {"text": f"top {shown} of {shown + plot['others']} values"}
        return page.chart(traces, layout)
    return ""


def _side(summary: dict[str, Any]) -> str:
    return ", ".join(f"{esc(k)} {fmt_num(v)}" for k, v in summary.items())


def _multivariate(report: DriftReport) -> str:
    mv = report.multivariate
    if mv is None:
        return "<p class='muted'>Not run: too few rows or no comparable column.</p>"
    top = ", ".join(esc(c) for c, _ in mv.top_columns)
    return (
        f"<p>{_badge(mv.drifted)} {esc(mv.explanation)}</p>"
        "<p class='muted'>A quadratic discriminant on normal scores was trained on half of "
        f"{mv.rows_per_side:,} sampled rows per side to tell current rows from reference rows, "
        "and scored on the other half: a held-out ROC AUC of 0.5 means it cannot; the data "
        f"drifts at AUC {mv.threshold:g} when that is also significant. It sees changes in how "
        "columns move together (a correlation appearing or vanishing) that per-column tests "
        f"cannot. Columns that moved most: {top or '—'}.</p>"
    )


def render_drift_html(report: DriftReport) -> str:
    """The page: verdict and cards, the per-column table, the multivariate check, then one
    chart per column (drifted columns first)."""
    verdict = "drift" if report.drifted else "no drift"
    page = Page(
        "Data drift",
        f"{report.current} ({report.current_rows:,} rows) against {report.reference} "
        f"({report.reference_rows:,} rows): {verdict}",
    )
    notes = "".join(
        f"<p class='muted'>Skipped {esc(k)}: {esc(v)}</p>" for k, v in report.skipped.items()
    )
    for side, names in (
        ("reference", report.only_in_reference),
        ("current", report.only_in_current),
    ):
        if names:
            notes += f"<p class='muted'>Only in the {side}: {esc(', '.join(names))}</p>"
    page.section("summary", "Summary", _cards(report) + _method(report) + notes)
    page.section("columns", "Columns", _table(report))
    page.section("multivariate", "Multivariate", _multivariate(report))
    ordered = sorted(report.columns, key=lambda c: not c.drifted)
    for i, c in enumerate(ordered):
        chart = _chart(page, c) if i < _MAX_CHARTS else ""
        body = (
            f"<p>{_badge(c.drifted)} {esc(c.explanation)}</p>"
            f"<p class='muted'>reference: {_side(c.reference)}<br>current: {_side(c.current)}</p>"
            f"{chart}"
        )
        page.section(f"c-{c.column}", c.column, body, in_nav=False)
    return page.render()
