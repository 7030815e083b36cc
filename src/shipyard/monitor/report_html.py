"""Self-contained HTML pages of a baseline and of a monitor run (plots inline, no network)."""

from __future__ import annotations

import itertools
from typing import Any

from shipyard.htmlpage import Page, esc, fmt_num

__all__ = ["render_baseline_html", "render_run_html"]

_REF, _CUR, _BAD = "#486581", "#f0b429", "#d64545"
_BAR_MARGIN = {"l": 160, "r": 20, "t": 30, "b": 40}  # room for feature names
_BADGE = {"ok": "ok", "violations": "error", "skipped": "warning", "error": "warning"}


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{esc(fmt_num(c) if isinstance(c, float) else c)}</td>" for c in r)
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _metric_rows(metrics: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for name, m in metrics.items():
        ci = m.get("ci95") if isinstance(m, dict) else None
        value = m.get("value") if isinstance(m, dict) else m
        rows.append([name, value, f"[{fmt_num(ci[0])}, {fmt_num(ci[1])}]" if ci else "—"])
    return rows


def _score_chart(page: Page, prediction: dict[str, Any]) -> str:
    hist = prediction.get("histogram") or {}
    edges, counts = hist.get("edges") or [], hist.get("counts") or []
    if len(edges) < 2:
        return ""
    total = max(sum(counts), 1)
    mids = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
    return page.chart(
        [{"type": "bar", "x": mids, "y": [c / total for c in counts], "marker": {"color": _REF}}],
        {"xaxis": {"title": "score"}, "yaxis": {"title": "share of rows"}, "bargap": 0.05},
    )


def render_baseline_html(payload: dict[str, Any]) -> str:
    """The baseline page: prediction distribution, metrics, attribution, constraints."""
    page = Page(
        f"Baseline of {payload['model']}",
        f"{payload['problem_type']} model, trained on "
        f"{payload.get('dataset') or 'unknown data'}; made {payload.get('created_at', '')}",
    )
    pred = payload.get("prediction", {})
    page.section(
        "prediction",
        "Prediction distribution",
        _score_chart(page, pred) + f"<p>{pred.get('rows', 0):,} reference rows "
        f"({esc(payload['reference'].get('note', ''))}).</p>",
    )
    if payload.get("metrics"):
        page.section(
            "metrics",
            "Test-set metrics (95% bootstrap intervals)",
            _table(["metric", "value", "95% interval"], _metric_rows(payload["metrics"])),
        )
    attribution = payload.get("attribution")
    if attribution:
        feats = attribution["features"][:20][::-1]
        chart = page.chart(
            [
                {
                    "type": "bar",
                    "orientation": "h",
                    "x": [f["value"] for f in feats],
                    "y": [f["feature"] for f in feats],
                    "marker": {"color": _REF},
                }
            ],
            {"height": 160 + 26 * len(feats), "margin": _BAR_MARGIN},
        )
        page.section("attribution", f"Global attribution ({attribution['method']})", chart)
    rules = payload.get("constraints", {}).get("rules", [])
    rows = [
        [
            r["column"],
            r["rule"],
            r["severity"],
            ", ".join(f"{k}={v}" for k, v in r.items() if k not in ("column", "rule", "severity"))[
                :120
            ],
        ]
        for r in rules
    ]
    page.section(
        "constraints", "Constraints", _table(["column", "rule", "severity", "parameters"], rows)
    )
    if payload.get("bias"):
        bias = payload["bias"]
        page.section(
            "bias",
            "Post-training bias",
            f"<p>Facet {esc(bias.get('facet'))}: "
            f"{len(bias.get('facets', []))} group(s) measured on the test rows.</p>",
        )
    return page.render()


def render_run_html(report: dict[str, Any]) -> str:
    """A monitor run's page: a summary, each check's verdict and its evidence."""
    window = report["window"]
    page = Page(
        f"Monitor {report['monitor']}: {report['model']}",
        f"Window {window['start']} .. {window['end']} (UTC), {report['rows']:,} captured rows",
    )
    rows = [
        [s["kind"], s["status"], s["summary"], len(s.get("violations", []))]
        for s in report.get("sections", [])
    ]
    summary = f"<p>{esc(report['summary'])}</p>"
    if rows:
        summary += _table(["check", "status", "summary", "violations"], rows)
    page.section("summary", "Summary", summary)
    for section in report.get("sections", []):
        page.section(section["kind"], section["kind"], _section_body(page, section))
    return page.render()


def _section_body(page: Page, section: dict[str, Any]) -> str:
    badge = _BADGE.get(section["status"], "warning")
    status, summary = esc(section["status"]), esc(section["summary"])
    out = f"<p><span class='badge {badge}'>{status}</span> {summary}</p>"
    if section["kind"] == "drift" and section.get("report"):
        out += _drift_body(page, section["report"])
    if section["kind"] == "model-quality":
        out += _quality_body(section)
    if section["kind"] == "attribution" and section.get("current"):
        feats = section["current"][:15][::-1]
        out += page.chart(
            [
                {
                    "type": "bar",
                    "orientation": "h",
                    "x": [f["value"] for f in feats],
                    "y": [f["feature"] for f in feats],
                    "marker": {"color": _CUR},
                }
            ],
            {"height": 160 + 26 * len(feats), "margin": _BAR_MARGIN, "title": "mean |SHAP| now"},
        )
    violations = section.get("violations", [])
    if violations:
        rows = [[v["severity"], v["violation"], _evidence(v["evidence"])] for v in violations]
        out += "<h3>Violations</h3>" + _table(["severity", "violation", "evidence"], rows)
    return out


def _evidence(evidence: dict[str, Any]) -> str:
    keep = (
        "column",
        "metric",
        "explanation",
        "value",
        "estimated",
        "baseline",
        "rows",
        "share",
        "ndcg",
        "unmatched_labels",
        "group",
        "found",
    )
    parts = [
        f"{k}={fmt_num(evidence[k]) if isinstance(evidence[k], float) else evidence[k]}"
        for k in keep
        if k in evidence and evidence[k] is not None
    ]
    return "; ".join(parts)[:300]


def _drift_body(page: Page, report: dict[str, Any]) -> str:
    cols = report.get("columns", [])
    rows = [
        [
            c["column"],
            c["test"],
            c["statistic"],
            c["threshold"],
            "yes" if c["drifted"] else "no",
            c["explanation"],
        ]
        for c in cols
    ]
    out = _table(["column", "test", "statistic", "threshold", "drifted", "why"], rows)
    for c in [c for c in cols if c["drifted"]][:8]:
        plot = c.get("plot") or {}
        if plot.get("type") == "density" and len(plot.get("edges", [])) > 1:
            e = plot["edges"]
            mids = [(a + b) / 2 for a, b in itertools.pairwise(e)]
            data = [
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": mids,
                    "y": plot[side],
                    "name": side,
                    "line": {"color": color, "shape": "hv"},
                }
                for side, color in (("reference", _REF), ("current", _CUR))
            ]
        elif plot.get("type") == "categories":
            data = [
                {
                    "type": "bar",
                    "x": plot["labels"],
                    "y": plot[side],
                    "name": side,
                    "marker": {"color": color},
                }
                for side, color in (("reference", _REF), ("current", _CUR))
            ]
        else:
            continue
        out += f"<h3>{esc(c['column'])}</h3>" + page.chart(data, {"height": 240})
    mv = report.get("multivariate")
    if mv:
        out += f"<p>Multivariate ({esc(mv['method'])}): {esc(mv['explanation'])}</p>"
    return out


def _quality_body(section: dict[str, Any]) -> str:
    out = ""
    counts = section.get("counts") or {}
    if counts:
        out += _table(list(counts), [[counts[k] for k in counts]])
    measured, baseline = section.get("measured"), section.get("baseline") or {}
    if measured:
        rows = []
        for name, m in measured["metrics"].items():
            b = baseline.get(name) or {}
            rows.append(
                [name, m.get("value"), _ci(m.get("ci95")), b.get("value"), _ci(b.get("ci95"))]
            )
        out += _table(["metric", "window", "95% interval", "baseline", "baseline interval"], rows)
    estimated = section.get("estimated")
    if estimated and estimated.get("rows"):
        rows = [
            [k, estimated.get(k), (baseline.get(k) or {}).get("value")]
            for k in ("roc_auc", "accuracy", "precision", "recall", "f1")
        ]
        out += "<h3>Estimated without labels (CBPE)</h3>" + _table(
            ["metric", "estimate", "baseline"], rows
        )
    return out


def _ci(ci: Any) -> str:
    return f"[{fmt_num(ci[0])}, {fmt_num(ci[1])}]" if ci else "—"
