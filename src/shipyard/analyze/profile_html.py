"""Render a profile (from :func:`profile_parquet`) as a self-contained HTML page."""

from __future__ import annotations

import itertools
from typing import Any

from shipyard.htmlpage import Page, esc, fmt_bytes, fmt_num

__all__ = ["render_profile_html"]

_BLUE = "#2186eb"


def _kv(rows: list[tuple[str, Any]]) -> str:
    body = "".join(f"<tr><th>{esc(k)}</th><td class='n'>{fmt_num(v)}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _alerts_table(alerts: list[dict[str, Any]]) -> str:
    if not alerts:
        return "<p><span class='badge ok'>clean</span> No alerts.</p>"
    rows = "".join(
        f"<tr><td><span class='badge {esc(a['severity'])}'>{esc(a['severity'])}</span></td>"
        f"<td>{esc(a['kind'])}</td><td>{esc(a['column'] or '(table)')}</td>"
        f"<td>{esc(a['message'])}</td></tr>"
        for a in alerts
    )
    return f"<table><tr><th></th><th>kind</th><th>column</th><th>message</th></tr>{rows}</table>"


def _bars(page: Page, labels: list[Any], values: list[float], title: str) -> str:
    return page.chart(
        [
            {
                "type": "bar",
                "orientation": "h",
                "x": values[::-1],
                "y": [str(v) for v in labels[::-1]],
                "marker": {"color": _BLUE},
            }
        ],
        {
            "title": {"text": title},
            "margin": {"l": 140, "r": 20, "t": 30, "b": 30},
            "height": max(160, 24 * len(labels) + 60),
        },
    )


def _histogram(page: Page, hist: dict[str, Any], title: str) -> str:
    edges, counts = hist["edges"], hist["counts"]
    if len(edges) < 2:
        return ""
    pairs = list(itertools.pairwise(edges))
    # Halves first: (a + b) / 2 overflows between -1e308 and 1e308.
    centers = edges[:-1] if isinstance(edges[0], str) else [a / 2 + b / 2 for a, b in pairs]
    return page.chart(
        [
            {
                "type": "bar",
                "x": centers,
                "y": counts,
                "marker": {"color": _BLUE},
                "hovertext": [f"[{a}, {b})" for a, b in pairs],
            }
        ],
        {"title": {"text": title}, "bargap": 0.02},
    )


def _column(page: Page, col: dict[str, Any]) -> str:
    sem = col["semantic_type"]
    rows: list[tuple[str, Any]] = [
        ("type", f"{sem} ({col['physical_type']})"),
        ("values", col["count"]),
        ("missing", f"{col['missing']:,} ({col['missing_pct']:.2f}%)"),
        ("distinct", col.get("distinct")),
    ]
    chart = ""
    if sem == "numeric":
        rows += [
            ("min", col.get("min")),
            ("max", col.get("max")),
            ("mean", col.get("mean")),
            ("std", col.get("std")),
            ("skewness", col.get("skewness")),
            ("zeros", col.get("zeros")),
            ("outliers (IQR)", col.get("outliers")),
        ]
        rows += [(k, v) for k, v in (col.get("quantiles") or {}).items()]
        if col.get("histogram"):
            chart = _histogram(page, col["histogram"], "distribution")
    elif sem == "datetime":
        rows += [("min", col.get("min")), ("max", col.get("max"))]
        if col.get("after_label_time") is not None:
            rows.append(("after label time", col["after_label_time"]))
        if col.get("histogram"):
            chart = _histogram(page, col["histogram"], "over time")
    if col.get("lengths"):
        ln = col["lengths"]
        rows += [("length min/mean/max", f"{ln['min']:.0f} / {ln['mean']:.1f} / {ln['max']:.0f}")]
    if col.get("top_values") and sem != "numeric":
        top = col["top_values"]
        chart = _bars(page, [t["value"] for t in top], [t["count"] for t in top], "top values")
    elif col.get("top_values") and not chart:
        top = col["top_values"]
        chart = _bars(page, [t["value"] for t in top], [t["count"] for t in top], "values")
    if sem == "text" and col.get("lengths"):
        chart = _histogram(page, col["lengths"]["histogram"], "string length")
    return f"<div class='col'><div>{_kv(rows)}</div><div>{chart}</div></div>"


def _heatmap(page: Page, block: dict[str, Any], title: str, zmin: float) -> str:
    cols = block["columns"]
    return page.chart(
        [
            {
                "type": "heatmap",
                "z": block["matrix"],
                "x": cols,
                "y": cols,
                "zmin": zmin,
                "zmax": 1,
                "colorscale": "RdBu",
                "reversescale": True,
            }
        ],
        {
            "title": {"text": title},
            "height": max(320, 18 * len(cols) + 140),
            "margin": {"l": 120, "r": 20, "t": 30, "b": 120},
        },
    )


def render_profile_html(profile: dict[str, Any]) -> str:
    """A self-contained HTML page for a profile: overview, alerts, target, columns, correlations.

    plotly.js is inlined once, so the page works offline and weighs about 5 MB.
    """
    t = profile["table"]
    page = Page(
        "Data profile",
        f"{t['rows']:,} rows × {t['columns']} columns · {profile.get('created_at', '')}",
    )
    cards = [
        ("rows", f"{t['rows']:,}"),
        ("columns", t["columns"]),
        ("duplicate rows", f"{t['duplicate_rows']:,} ({t['duplicate_rows_pct']:.2f}%)"),
        ("missing cells", f"{t['missing_cells_pct']:.2f}%"),
        ("memory (Arrow)", fmt_bytes(t["memory_bytes"])),
        ("on disk", fmt_bytes(t["file_bytes"])),
        *[(k, v) for k, v in sorted(t["semantic_types"].items())],
    ]
    body = (
        "<div class='cards'>"
        + "".join(f"<div class='card'><b>{esc(v)}</b>{esc(k)}</div>" for k, v in cards)
        + "</div>"
    )
    page.section("overview", "Overview", body)
    page.section("alerts", f"Alerts ({len(profile['alerts'])})", _alerts_table(profile["alerts"]))
    target = profile.get("target")
    if target:
        parts = [f"<p>Target <b>{esc(target['column'])}</b> · {esc(target.get('kind'))}</p>"]
        if target.get("classes"):
            cl = target["classes"]
            parts.append(
                _bars(page, [c["value"] for c in cl], [c["count"] for c in cl], "class balance")
            )
        assoc = target.get("associations", [])[:25]
        if assoc:
            parts.append(
                _bars(
                    page,
                    [f"{a['column']} ({a['metric']} {a['value']:.3f})" for a in assoc],
                    [a["strength"] for a in assoc],
                    "association with the target (strength 0–1)",
                )
            )
        page.section("target", "Target", "".join(parts))
    cols_html = []
    for col in profile["columns"]:
        anchor = f"col-{col['name']}"
        cols_html.append(
            f"<h3 id='{esc(anchor)}'>{esc(col['name'])} "
            f"<span class='muted'>{esc(col['semantic_type'])}</span></h3>" + _column(page, col)
        )
    page.section("columns", "Columns", "<hr>".join(cols_html))
    corr = profile.get("correlations") or {}
    parts = []
    for key, title, zmin in (
        ("pearson", "Pearson", -1.0),
        ("spearman", "Spearman", -1.0),
        ("cramers_v", "Cramér's V", 0.0),
    ):
        if key in corr:
            parts.append(_heatmap(page, corr[key], title, zmin))
    if corr.get("top_pairs"):
        rows = "".join(
            f"<tr><td>{esc(p['a'])}</td><td>{esc(p['b'])}</td><td>{esc(p['method'])}"
            f"</td><td class='n'>{p['value']:.3f}</td></tr>"
            for p in corr["top_pairs"]
        )
        parts.append(
            "<h3>Strongest pairs</h3><table><tr><th>a</th><th>b</th><th>method</th>"
            f"<th>value</th></tr>{rows}</table>"
        )
    page.section(
        "correlations",
        "Correlations",
        "".join(parts) or "<p class='muted'>Fewer than two comparable columns.</p>",
    )
    return page.render()
