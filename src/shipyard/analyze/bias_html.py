"""Render a pre-training bias report (from :func:`pretraining_bias`) as an HTML page."""

from __future__ import annotations

from typing import Any

from shipyard.htmlpage import Page, esc

__all__ = ["render_bias_html"]


def metric_rows(metrics: dict[str, dict[str, Any]]) -> list[str]:
    """Table rows (metric, value with a flag badge, range, limit, reading) of bias metrics."""
    rows = []
    for key, m in metrics.items():
        value = "—" if m["value"] is None else f"{m['value']:.4f}"
        badge = " <span class='badge error'>flag</span>" if m["flag"] else ""
        rows.append(
            f"<tr><td><b>{esc(key)}</b> <span class='muted'>{esc(m['name'])}</span></td>"
            f"<td class='n'>{value}{badge}</td><td>{esc(m['range'])}</td>"
            f"<td class='n'>{m['limit']:g}</td><td>{esc(m['reading'])}</td></tr>"
        )
    return rows


def render_bias_html(report: dict[str, Any]) -> str:
    """A self-contained HTML page: positive rate per facet group, then each group's metrics.

    Flagged metrics (past their limit) are marked red and listed first in the summary.
    """
    facet = report["facet"]
    page = Page(
        "Pre-training bias",
        f"label {report['label']} (positive: {', '.join(map(str, report['positive']))}) · "
        f"facet {facet} · {report['rows']:,} rows",
    )
    groups = report["facets"]
    flagged = [
        (g, ", ".join(keys))
        for g in groups
        if (keys := [k for k, m in g["metrics"].items() if m["flag"]])
    ]
    summary = (
        "<p><span class='badge error'>attention</span> "
        + "; ".join(f"{esc(facet)} {esc(g['description'])}: {esc(k)}" for g, k in flagged)
        + "</p>"
        if flagged
        else "<p><span class='badge ok'>ok</span> No metric past its limit.</p>"
    )
    summary += (
        f"<p class='muted'>Convention: d is the facet group, a every other row; the label is "
        f"positive when it is one of {esc(report['positive'])}. Overall positive rate "
        f"{100 * report['positive_rate']:.1f}%; {report['rows_dropped']:,} rows left out for a "
        "missing label or facet.</p>"
    )
    labels = [f"{facet} {g['description']}" for g in groups]
    rates = [100 * g["positive_rate_d"] for g in groups]
    lo = [100 * (g["positive_rate_d"] - g["positive_rate_d_ci95"][0]) for g in groups]
    hi = [100 * (g["positive_rate_d_ci95"][1] - g["positive_rate_d"]) for g in groups]
    summary += page.chart(
        [
            {
                "type": "bar",
                "x": labels,
                "y": rates,
                "marker": {"color": "#2186eb"},
                "error_y": {"type": "data", "symmetric": False, "array": hi, "arrayminus": lo},
            }
        ],
        {
            "title": {"text": "positive rate per facet group (95% Wilson interval)"},
            "yaxis": {"ticksuffix": "%"},
            "shapes": [
                {
                    "type": "line",
                    "xref": "paper",
                    "x0": 0,
                    "x1": 1,
                    "y0": 100 * report["positive_rate"],
                    "y1": 100 * report["positive_rate"],
                    "line": {"dash": "dot", "color": "#7b8794"},
                }
            ],
        },
    )
    page.section("summary", "Summary", summary)
    for i, g in enumerate(groups):
        rows = metric_rows(g["metrics"])
        body = (
            f"<p>n_d = {g['n_d']:,} · n_a = {g['n_a']:,} · positive rate "
            f"{100 * g['positive_rate_d']:.1f}% vs {100 * g['positive_rate_a']:.1f}%</p>"
            "<table><tr><th>metric</th><th>value</th><th>range</th><th>limit</th>"
            f"<th>reading</th></tr>{''.join(rows)}</table>"
        )
        page.section(f"g{i}", f"{facet} {g['description']}", body, in_nav=len(groups) <= 12)
    return page.render()
