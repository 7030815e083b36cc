"""Render a profile (from :func:`profile_parquet`) as a self-contained HTML page."""

from __future__ import annotations

import itertools
from typing import Any

from shipyard.htmlpage import Page, esc, fmt_bytes, fmt_num

__all__ = ["render_profile_html"]

_BLUE = "#2186eb"
# White (0: no association) to dark blue (1), as matplotlib's Blues; plotly.js's own "Blues"
# runs the other way round.
_SEQUENTIAL = [[0.0, "#f7fbff"], [0.5, "#6baed6"], [1.0, "#08306b"]]


def _kv(rows: list[tuple[str, Any]]) -> str:
    body = "".join(f"<tr><th>{esc(k)}</th><td class='n'>{fmt_num(v)}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
_GROUP_AT = 3  # this many notes of one kind fold into one row


def _alerts_table(alerts: list[dict[str, Any]]) -> str:
    """Errors and warnings one per row, first; notes (info) of one kind folded into one row
    that opens to list them, so 24 "skewed" notes do not bury 4 warnings."""
    if not alerts:
        return "<p><span class='badge ok'>clean</span> No alerts.</p>"
    ordered = sorted(alerts, key=lambda a: _SEVERITY_RANK.get(a["severity"], 3))
    kinds: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for a in ordered:
        kinds.setdefault((a["severity"], a["kind"]), []).append(a)
    rows = []
    for (severity, kind), same in kinds.items():
        if severity in ("error", "warning") or len(same) < _GROUP_AT:
            rows += [
                _alert_row(severity, kind, esc(a["column"] or "(table)"), esc(a["message"]))
                for a in same
            ]
            continue
        names = [str(a["column"] or "(table)") for a in same]
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        items = "".join(f"<li>{esc(a['message'])}</li>" for a in same)
        rows.append(
            _alert_row(
                severity,
                kind,
                f"{len(same)} columns",
                f"<details class='group'><summary>{esc(shown)}</summary><ul>{items}</ul></details>",
            )
        )
    counts = {s: sum(a["severity"] == s for a in alerts) for s in _SEVERITY_RANK}
    head = " · ".join(
        f"<span class='badge {s}'>{n}</span> {s if s != 'info' else 'note'}{'s' * (n != 1)}"
        for s, n in counts.items()
        if n
    )
    return (
        f"<p>{head}</p><table><tr><th></th><th>kind</th><th>column</th><th>message</th></tr>"
        f"{''.join(rows)}</table>"
    )


def _alert_row(severity: str, kind: str, column_html: str, message_html: str) -> str:
    return (
        f"<tr><td><span class='badge {esc(severity)}'>{esc(severity)}</span></td>"
        f"<td>{esc(kind)}</td><td>{column_html}</td><td>{message_html}</td></tr>"
    )


def _bars(
    page: Page, labels: list[Any], values: list[float], title: str, text: list[str] | None = None
) -> str:
    trace: dict[str, Any] = {
        "type": "bar",
        "orientation": "h",
        "x": values[::-1],
        "y": [str(v) for v in labels[::-1]],
        "marker": {"color": _BLUE},
    }
    if text is not None:
        trace |= {"text": text[::-1], "textposition": "outside", "cliponaxis": False}
    return page.chart(
        [trace],
        {
            "title": {"text": title},
            "margin": {"l": 20, "r": 20, "t": 36, "b": 30},
            # Category: 0 and 1 are two classes, not a continuous axis from -0.5 to 1.5.
            "yaxis": {"type": "category"},
            "height": max(160, 24 * len(labels) + 70),
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


def _log_histogram(page: Page, hist: dict[str, Any], zeros: int | None) -> str:
    """A heavy-tailed column's log-spaced bins as steps on a log axis: each decade as wide as
    the next, so the bulk and the tail are both visible (equal-width bins put it all in one)."""
    edges, counts = hist["edges"], hist["counts"]
    pairs = itertools.pairwise(edges)
    tips = [f"[{fmt_num(a)}, {fmt_num(b)}): {c:,}" for (a, b), c in zip(pairs, counts, strict=True)]
    title = "distribution (log scale" + (f"; {zeros:,} zeros not shown)" if zeros else ")")
    return page.chart(
        [
            {
                "type": "scatter",
                "mode": "lines",
                "x": edges,
                "y": [*counts, counts[-1]],
                "line": {"shape": "hv", "color": _BLUE},
                "fill": "tozeroy",
                "hovertext": [*tips, tips[-1]],
                "hoverinfo": "text",
            }
        ],
        {"title": {"text": title}, "xaxis": {"type": "log"}, "yaxis": {"rangemode": "tozero"}},
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
        if col.get("log_histogram"):
            chart = _log_histogram(page, col["log_histogram"], col.get("zeros"))
        elif col.get("histogram"):
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
    """Signed coefficients on a diverging red-blue scale centred on 0; a strength from 0 to 1
    (Cramér's V) on a sequential one, so 0 reads as nothing rather than as alarm."""
    cols = block["columns"]
    scale = (
        {"colorscale": "RdBu", "reversescale": True} if zmin < 0 else {"colorscale": _SEQUENTIAL}
    )
    return page.chart(
        [
            {"type": "heatmap", "z": block["matrix"], "x": cols, "y": cols, "zmin": zmin, "zmax": 1}
            | scale
        ],
        {
            "title": {"text": title},
            # The rotated column names under the matrix take up to ~200 px of it.
            "height": max(320, 20 * len(cols) + 260),
            "margin": {"l": 20, "r": 20, "t": 36, "b": 20},
            "xaxis": {"type": "category"},
            "yaxis": {"type": "category", "autorange": "reversed"},
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
                    [a["column"] for a in assoc],
                    [a["strength"] for a in assoc],
                    "association with the target (strength 0–1)",
                    [f"{a['metric']} {a['value']:.3f}" for a in assoc],
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
