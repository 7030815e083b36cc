"""Render a post-training bias report (from :func:`posttraining_bias`) as HTML."""

from __future__ import annotations

from typing import Any

from shipyard.analyze.bias_html import group_label, metric_rows, verdict_summary
from shipyard.htmlpage import Page, esc, fmt_num

__all__ = ["render_posttraining_html", "render_posttraining_section"]


def render_posttraining_section(report: dict[str, Any]) -> str:
    """An HTML fragment for embedding in another report page (no script, no page shell).

    A summary of flagged metrics, then per facet group its confusion counts and a table of
    the nine metrics with their range, limit and reading. It uses the CSS classes of
    :mod:`shipyard.htmlpage` (``badge``, ``muted``, ``n``).
    """
    return _summary(report) + "".join(_group(report["facet"], g) for g in report["facets"])


def render_posttraining_html(report: dict[str, Any]) -> str:
    """A self-contained HTML page: predicted vs observed positive rate per group, then metrics."""
    facet = report["facet"]
    page = Page(
        "Post-training bias",
        f"label {report['label']} (positive: {', '.join(map(str, report['positive']))}) · "
        f"facet {facet} · {report['rows']:,} rows",
    )
    groups = report["facets"]
    # Each bar is named by its facet value ('PT', '> 40'); the facet is the axis title, so the
    # ticks do not all start with the same long column name.
    names = [group_label(g) for g in groups]
    chart = page.chart(
        [
            {
                "type": "bar",
                "name": "observed",
                "x": names,
                "y": [100 * g["positive_rate_d"] for g in groups],
                "marker": {"color": "#9fb3c8"},
            },
            {
                "type": "bar",
                "name": "predicted",
                "x": names,
                "y": [100 * g["predicted_positive_rate_d"] for g in groups],
                "marker": {"color": "#2186eb"},
            },
        ],
        {
            "title": {"text": "positive rate per facet group: observed and predicted"},
            "xaxis": {"title": {"text": facet}, "type": "category"},
            "yaxis": {"ticksuffix": "%"},
            "barmode": "group",
        },
    )
    page.section("summary", "Summary", _summary(report) + chart)
    for i, g in enumerate(groups):
        page.section(
            f"g{i}",
            f"{facet} {g['description']}",
            _group_body(g),
            in_nav=len(groups) <= 12,
            nav=group_label(g),
        )
    return page.render()


def _summary(report: dict[str, Any]) -> str:
    return verdict_summary(report) + (
        "<p class='muted'>Convention: d is the facet group, a every other row; a label or "
        f"prediction is positive when it is one of {esc(report['positive'])}. Observed positive "
        f"rate {100 * report['positive_rate']:.1f}%, predicted "
        f"{100 * report['predicted_positive_rate']:.1f}%; {report['rows_dropped']:,} rows left "
        "out for a missing label, prediction or facet. DPPL is information: DI judges the "
        "same predicted positive rates.</p>"
    )


def _group(facet: str, g: dict[str, Any]) -> str:
    return f"<h3>{esc(facet)} {esc(g['description'])}</h3>{_group_body(g)}"


def _group_body(g: dict[str, Any]) -> str:
    cm_d, cm_a = g["confusion_d"], g["confusion_a"]
    counts = "".join(
        f"<tr><td>{who}</td><td class='n'>{fmt_num(n)}</td>"
        + "".join(f"<td class='n'>{fmt_num(cm[c])}</td>" for c in ("tp", "fp", "fn", "tn"))
        + f"<td class='n'>{100 * pos:.1f}%</td><td class='n'>{100 * pred:.1f}%</td></tr>"
        for who, n, cm, pos, pred in (
            ("group (d)", g["n_d"], cm_d, g["positive_rate_d"], g["predicted_positive_rate_d"]),
            ("rest (a)", g["n_a"], cm_a, g["positive_rate_a"], g["predicted_positive_rate_a"]),
        )
    )
    rows = metric_rows(g["metrics"])
    return (
        "<table><tr><th></th><th>rows</th><th>TP</th><th>FP</th><th>FN</th><th>TN</th>"
        f"<th>observed positive</th><th>predicted positive</th></tr>{counts}</table>"
        "<table><tr><th>metric</th><th>value</th><th>verdict</th><th>range</th>"
        f"<th>reading</th></tr>{''.join(rows)}</table>"
    )
