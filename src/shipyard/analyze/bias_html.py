"""Render a pre-training bias report (from :func:`pretraining_bias`) as an HTML page."""

from __future__ import annotations

from typing import Any

from shipyard.analyze._bias_common import flagged, too_few
from shipyard.htmlpage import Page, esc

__all__ = ["group_label", "metric_rows", "render_bias_html", "verdict_summary"]

_BADGE = {
    "flagged": "<span class='badge error'>flagged</span>",
    "too few": "<span class='badge warning'>too few</span>",
    "not significant": "<span class='muted'>not significant</span>",
    "ok": "<span class='badge ok'>ok</span>",
    "info": "<span class='muted'>info</span>",
}


def metric_rows(metrics: dict[str, dict[str, Any]]) -> list[str]:
    """Table rows (metric, value, verdict, range, reading) of bias metrics; flagged ones red."""
    rows = []
    for key, m in metrics.items():
        value = "—" if m["value"] is None else f"{m['value']:.4f}"
        rows.append(
            f"<tr{' class=flag' if m['flag'] else ''}><td><b>{esc(key)}</b> "
            f"<span class='muted'>{esc(m['name'])}</span></td>"
            f"<td class='n'>{value}</td><td>{_BADGE.get(m['status'], '')}</td>"
            f"<td>{esc(m['range'])}</td><td>{esc(m['reading'])}</td></tr>"
        )
    return rows


def verdict_summary(report: dict[str, Any]) -> str:
    """HTML of what is flagged and why, the groups too small to judge, and the rule."""
    facet, hits = report["facet"], flagged(report)
    if hits:
        items = "".join(
            f"<li><b>{esc(facet)} {esc(g['description'])}</b>: <b>{esc(key)}</b> "
            f"{_signed(m['value'])} · "
            f"{esc(m['evidence']['text'])}</li>"
            for g, key, m in hits
        )
        head = (
            f"<p><span class='badge error'>flagged</span> {len(hits)} metric(s)</p><ul>{items}</ul>"
        )
    else:
        head = (
            f"<p><span class='badge ok'>ok</span> Nothing flagged in "
            f"{len(report['facets'])} group(s).</p>"
        )
    small: dict[str, list[str]] = {}
    for g, key, _ in too_few(report):
        small.setdefault(g["description"], []).append(key)
    if small:
        head += (
            "<p><span class='badge warning'>too few to judge</span> "
            + "; ".join(f"{esc(facet)} {esc(d)} ({esc(', '.join(k))})" for d, k in small.items())
            + "</p>"
        )
    return head + f"<p class='muted'>{esc(report['rule']['text'])}</p>"


def render_bias_html(report: dict[str, Any]) -> str:
    """A self-contained HTML page: what is flagged and why, the positive rate per group, then
    each group's metrics.
    """
    facet = report["facet"]
    page = Page(
        "Pre-training bias",
        f"label {report['label']} (positive: {', '.join(map(str, report['positive']))}) · "
        f"facet {facet} · {report['rows']:,} rows",
    )
    groups = report["facets"]
    summary = verdict_summary(report) + (
        f"<p class='muted'>Convention: d is the facet group, a every other row; the label is "
        f"positive when it is one of {esc(report['positive'])}. Overall positive rate "
        f"{100 * report['positive_rate']:.2f}%; {report['rows_dropped']:,} rows left out for a "
        "missing label or facet. CI, KL, JS, LP, TVD, KS and CDDL are information: with a "
        "binary label the divergences restate DPL's comparison, and CI is representation, "
        "whose one risk (too few rows) DPL's support rule covers.</p>"
    )
    summary += _rate_chart(page, report) + _rate_table(groups)
    page.section("summary", "Summary", summary)
    for i, g in enumerate(groups):
        body = (
            f"<p>n_d = {g['n_d']:,} · n_a = {g['n_a']:,} · positive rate "
            f"{100 * g['positive_rate_d']:.2f}% vs {100 * g['positive_rate_a']:.2f}%</p>"
            "<table><tr><th>metric</th><th>value</th><th>verdict</th><th>range</th>"
            f"<th>reading</th></tr>{''.join(metric_rows(g['metrics']))}</table>"
        )
        page.section(
            f"g{i}",
            f"{facet} {g['description']}",
            body,
            in_nav=len(groups) <= 12,
            nav=group_label(g),
        )
    return page.render()


def group_label(g: dict[str, Any]) -> str:
    """The facet value for a categorical group ('PT'), the description for a threshold."""
    desc = str(g["description"])
    return str(g["value"]) if desc.startswith("= ") else desc


def _signed(value: float | None) -> str:
    return "undefined" if value is None else f"{value:+.4f}"


def _rate_table(groups: list[dict[str, Any]]) -> str:
    rows = []
    for g in groups:
        m = g["metrics"]["DPL"]
        ev, (lo, hi) = m["evidence"], g["positive_rate_d_ci95"]
        rows.append(
            f"<tr{' class=flag' if m['flag'] else ''}><td>{esc(group_label(g))}</td>"
            f"<td class='n'>{g['n_d']:,}</td><td class='n'>{g['positives_d']:,}</td>"
            f"<td class='n'>{100 * g['positive_rate_d']:.2f}%</td>"
            f"<td class='n'>{100 * lo:.2f}–{100 * hi:.2f}%</td>"
            f"<td class='n'>{'—' if ev['ratio'] is None else format(ev['ratio'], '.2f')}</td>"
            f"<td class='n'>{ev['p_value']:.2g}</td><td>{_BADGE[m['status']]}</td></tr>"
        )
    return (
        "<table><tr><th>group</th><th>rows</th><th>positives</th><th>positive rate</th>"
        "<th>95% CI</th><th>× rest</th><th>p</th><th>DPL verdict</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _rate_chart(page: Page, report: dict[str, Any]) -> str:
    groups = report["facets"]
    colors = {"flagged": "#cf1124", "too few": "#de911d"}
    legend = (
        "<p class='muted'>Red: flagged; orange: too few to judge; dotted line: the overall "
        "positive rate.</p>"
    )
    return legend + page.chart(
        [
            {
                "type": "bar",
                "x": [group_label(g) for g in groups],
                "y": [100 * g["positive_rate_d"] for g in groups],
                "marker": {
                    "color": [colors.get(g["metrics"]["DPL"]["status"], "#2186eb") for g in groups]
                },
                "error_y": {
                    "type": "data",
                    "symmetric": False,
                    "array": [
                        100 * (g["positive_rate_d_ci95"][1] - g["positive_rate_d"]) for g in groups
                    ],
                    "arrayminus": [
                        100 * (g["positive_rate_d"] - g["positive_rate_d_ci95"][0]) for g in groups
                    ],
                },
            }
        ],
        {
            "title": {"text": "positive rate per group (95% Wilson interval)"},
            "xaxis": {"title": {"text": report["facet"]}, "type": "category"},
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
