"""Render an evaluation report (from :func:`evaluate_test`) as a self-contained HTML page."""

from __future__ import annotations

import itertools
from typing import Any

from shipyard.htmlpage import Page, esc, fmt_num

__all__ = ["render_evaluation_html"]

_BLUE = "#2186eb"
_RED = "#cf1124"
_GREY = "#7b8794"
_AXIS_SHARE = {"tickformat": ".0%", "rangemode": "tozero"}


def render_evaluation_html(report: dict[str, Any], *, bias_section: str = "") -> str:
    """The page: summary, metrics with intervals, the problem's plots, slices, bias, training.

    Args:
        report: The evaluation report.
        bias_section: An HTML fragment with the post-training bias metrics, if computed.
    """
    kind = report["problem_type"]
    subtitle = " · ".join(
        str(part)
        for part in (
            report.get("model"),
            f"{kind}, target {report['target']}",
            f"test part of {report['dataset']}" if report.get("dataset") else None,
            f"{report['rows']:,} rows",
            report.get("created_at"),
        )
        if part
    )
    page = Page("Model evaluation", subtitle)
    page.section("summary", "Summary", _summary(report))
    page.section("metrics", "Metrics on test", _metrics_table(report))
    if kind == "binary":
        _binary_sections(page, report)
    elif kind == "multiclass":
        _multiclass_sections(page, report)
    else:
        _regression_sections(page, report)
    if report.get("slices"):
        page.section("slices", "Slices", _slices(page, report))
    if bias_section:
        page.section("bias", "Post-training bias", bias_section)
    if report.get("learning_curves"):
        page.section("learning", "Learning curves", _learning(page, report["learning_curves"]))
    if report.get("leaderboard"):
        page.section("leaderboard", "Leaderboard", _leaderboard(report["leaderboard"]))
    page.section("diagnostics", "Diagnostics", _diagnostics(report.get("diagnostics") or []))
    return page.render()


# --- summary and metrics ------------------------------------------------------------------


def _summary(report: dict[str, Any]) -> str:
    metrics = report["metrics"]
    cards: list[tuple[str, str]] = [("test rows", f"{report['rows']:,}")]
    keys: tuple[str, ...]
    if report["problem_type"] == "binary":
        cards.append(("positives", f"{report['positives']:,} ({_pct(report['positive_rate'])})"))
        keys = ("roc_auc", "pr_auc", "recall", "precision")
    elif report["problem_type"] == "multiclass":
        keys = ("accuracy", "macro_f1", "log_loss")
    else:
        keys = ("rmse", "mae", "r2")
    for key in keys:
        m = metrics.get(key) or {}
        ci = m.get("ci95")
        text = fmt_num(m.get("value"))
        if ci:
            text += f" <span class='muted'>[{fmt_num(ci[0], 3)}, {fmt_num(ci[1], 3)}]</span>"
        cards.append((key, text))
    body = (
        "<div class='cards'>"
        + "".join(f"<div class='card'><b>{v}</b>{esc(k)}</div>" for k, v in cards)
        + "</div>"
    )
    if report["problem_type"] == "binary":
        body += f"<p>{esc(threshold_reading(report['threshold']))}</p>"
    flagged = flagged_slices(report)
    if flagged:
        items = "".join(
            f"<li><b>{esc(column)} = {esc(s['value'])}</b> ({s['rows']:,} rows): "
            f"{esc('; '.join(s['flags']))}</li>"
            for column, s in flagged
        )
        body += "<p><span class='badge warning'>slices</span> Much worse than overall:</p>"
        body += f"<ul>{items}</ul>"
    warnings = [d for d in report.get("diagnostics") or [] if d.get("severity") == "warning"]
    if warnings:
        body += (
            f"<p><span class='badge warning'>diagnostics</span> {len(warnings)} warning(s): "
            f"{esc(', '.join(d['check'] for d in warnings))}.</p>"
        )
    return body


def _metrics_table(report: dict[str, Any]) -> str:
    rows = []
    for key, m in report["metrics"].items():
        ci = m.get("ci95")
        interval = f"{fmt_num(ci[0])} – {fmt_num(ci[1])}" if ci else "—"
        rows.append(
            f"<tr><td>{esc(key)}</td><td class='n'>{fmt_num(m.get('value'))}</td>"
            f"<td class='n'>{interval}</td></tr>"
        )
    method = report.get("bootstrap") or {}
    note = (
        f"<p class='muted'>95% intervals: {esc(method.get('method'))}, "
        f"{method.get('resamples')} resamples of {method.get('rows', 0):,} rows"
        + (
            ", scaled to all test rows (spread × √(sample / rows))."
            if method.get("scaled")
            else "."
        )
        + "</p>"
    )
    return (
        "<table><tr><th>metric</th><th>value</th><th>95% interval</th></tr>"
        f"{''.join(rows)}</table>{note}"
    )


def threshold_reading(t: dict[str, Any]) -> str:
    """What the binary threshold means, in alerts, hits and misses."""
    c = t["confusion"]
    rule = (t.get("decision") or {}).get("rule", "f1")
    why = {
        "cost": "chosen to minimize the cost of false alarms and misses on validation",
        "alert_rate": "chosen to stay within the alert budget on validation",
        "f1": "chosen for the best F1 on validation",
    }.get(rule, f"rule {rule}")
    text = (
        f"At the threshold {t['value']:.4g} ({why}) the model flags {t['alerts']:,} of "
        f"{sum(c.values()):,} test rows ({_pct(t['alert_rate'], 2)}"
    )
    if t.get("rows_per_alert"):
        text += f", one in {t['rows_per_alert']:,.0f}"
    text += f"): {c['tp']:,} hits and {c['fp']:,} false alarms"
    if t.get("precision") is not None:
        text += f" (precision {_pct(t['precision'])})"
    text += f"; it catches {c['tp']:,} of {c['tp'] + c['fn']:,} positives"
    if t.get("recall") is not None:
        text += f" (recall {_pct(t['recall'])})"
    text += "."
    if t.get("cost") is not None:
        text += f" Cost on test: {t['cost']:,.4g} ({t['cost_per_row']:.4g} per row)."
    return text


def flagged_slices(report: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(column, slice) of every flagged slice."""
    return [
        (col["column"], s)
        for col in (report.get("slices") or {}).get("columns", [])
        for s in col["slices"]
        if s["flags"]
    ]


# --- binary -------------------------------------------------------------------------------


def _binary_sections(page: Page, report: dict[str, Any]) -> None:
    t = report["threshold"]
    c = t["confusion"]
    matrix = (
        "<table style='width:auto'><tr><th></th><th>flagged</th><th>not flagged</th></tr>"
        f"<tr><th>positive</th><td class='n'>{c['tp']:,} <span class='muted'>hits</span></td>"
        f"<td class='n'>{c['fn']:,} <span class='muted'>misses</span></td></tr>"
        f"<tr><th>negative</th><td class='n'>{c['fp']:,} <span class='muted'>false alarms"
        f"</span></td><td class='n'>{c['tn']:,}</td></tr></table>"
    )
    page.section(
        "threshold",
        "Confusion at the threshold",
        f"<div class='col'><div>{matrix}</div><div><p>{esc(threshold_reading(t))}</p></div></div>",
    )
    roc, pr = report.get("roc"), report.get("pr")
    if roc and pr:
        fpr = c["fp"] / max(c["fp"] + c["tn"], 1)
        recall = t.get("recall") or 0.0
        roc_chart = page.chart(
            [
                _line(roc["fpr"], roc["tpr"], "ROC", hover=roc["threshold"]),
                _line([0, 1], [0, 1], "chance", dash="dot", color=_GREY),
                _marker([fpr], [recall], "threshold"),
            ],
            {
                "title": {
                    "text": f"ROC curve (AUC {fmt_num(report['metrics']['roc_auc']['value'])})"
                },
                "xaxis": {"title": {"text": "false positive rate"}, "range": [0, 1]},
                "yaxis": {"title": {"text": "true positive rate (recall)"}, "range": [0, 1.02]},
                "height": 340,
            },
        )
        pr_chart = page.chart(
            [
                _line(pr["recall"], pr["precision"], "PR", hover=pr["threshold"]),
                _line([0, 1], [pr["base_rate"]] * 2, "positive rate", dash="dot", color=_GREY),
                _marker([recall], [t.get("precision") or 0.0], "threshold"),
            ],
            {
                "title": {
                    "text": "Precision-recall curve "
                    f"(AP {fmt_num(report['metrics']['pr_auc']['value'])})"
                },
                "xaxis": {"title": {"text": "recall"}, "range": [0, 1]},
                "yaxis": {"title": {"text": "precision"}, "range": [0, 1.02]},
                "height": 340,
            },
        )
        page.section("curves", "ROC and PR", f"<div class='grid2'>{roc_chart}{pr_chart}</div>")
    page.section("top-k", "Top-k: what a review team sees", _top_k(page, report))
    page.section("calibration", "Calibration and scores", _calibration(page, report))


def _top_k(page: Page, report: dict[str, Any]) -> str:
    rows = report.get("top_k") or []
    if not rows:
        return "<p class='muted'>No positives in the test rows.</p>"
    body = "".join(
        f"<tr{' class=flag' if r['alert_budget'] else ''}><td class='n'>{_pct(r['share'], 1)}"
        f"{' (alert budget)' if r['alert_budget'] else ''}</td><td class='n'>{r['k']:,}</td>"
        f"<td class='n'>{r['positives']:,}</td><td class='n'>{_pct(r['precision'])}</td>"
        f"<td class='n'>{_pct(r['recall'])}</td><td class='n'>{r['lift']:.1f}×</td>"
        f"<td class='n'>{fmt_num(r['min_score'])}</td></tr>"
        for r in rows
    )
    table = (
        "<table><tr><th>top share</th><th>rows reviewed</th><th>positives found</th>"
        "<th>precision</th><th>recall</th><th>lift</th><th>lowest score</th></tr>"
        f"{body}</table><p class='muted'>The k highest-scored test rows; lift is their "
        "precision over the overall positive rate.</p>"
    )
    labels = [_pct(r["share"], 1) for r in rows]
    chart = page.chart(
        [
            {
                "type": "bar",
                "x": labels,
                "y": [r["precision"] for r in rows],
                "name": "precision",
                "marker": {"color": _BLUE},
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": labels,
                "y": [r["recall"] for r in rows],
                "name": "recall",
                "line": {"color": _RED},
            },
        ],
        {
            "title": {"text": "precision and recall of the top-scored rows"},
            "xaxis": {"title": {"text": "share of rows reviewed"}, "type": "category"},
            "yaxis": {**_AXIS_SHARE, "range": [0, 1.02]},
        },
    )
    return f"<div class='col'><div>{table}</div><div>{chart}</div></div>"


def _calibration(page: Page, report: dict[str, Any]) -> str:
    cal = report["calibration"]
    bins = cal["bins"]
    rates = bins["positive_rate"]
    top = [h - p for h, p in zip(bins["positive_rate_ci95_high"], rates, strict=True)]
    low = [p - lo for p, lo in zip(rates, bins["positive_rate_ci95_low"], strict=True)]
    edge = max([*bins["mean_score"], *bins["positive_rate_ci95_high"], 0.01])
    reliability = page.chart(
        [
            _line([0, edge], [0, edge], "perfect", dash="dot", color=_GREY),
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": bins["mean_score"],
                "y": bins["positive_rate"],
                "name": "observed",
                "line": {"color": _BLUE},
                "error_y": {"type": "data", "symmetric": False, "array": top, "arrayminus": low},
                "text": [f"{r:,} rows" for r in bins["rows"]],
            },
        ],
        {
            "title": {
                "text": f"reliability (ECE {cal['ece']:.4f}, Brier {cal['brier']:.4f})",
            },
            "xaxis": {"title": {"text": "mean predicted probability (equal-count bins)"}},
            "yaxis": {"title": {"text": "observed positive rate (95% Wilson)"}},
            "height": 340,
        },
    )
    dist = report["score_distribution"]
    edges = dist["edges"]
    centres = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
    traces = []
    for name, color in (("negative", _BLUE), ("positive", _RED)):
        counts = dist[name]
        total = max(sum(counts), 1)
        traces.append(
            {
                "type": "bar",
                "x": centres,
                "y": [c / total for c in counts],
                "name": f"{name} ({total:,})",
                "marker": {"color": color},
                "opacity": 0.6,
            }
        )
    threshold = report["threshold"]["value"]
    histogram = page.chart(
        traces,
        {
            "title": {"text": "score distribution per class (share of the class)"},
            "barmode": "overlay",
            "bargap": 0.02,
            "xaxis": {"title": {"text": "score"}, "range": [0, 1]},
            "yaxis": {"tickformat": ".0%"},
            "shapes": [_vline(threshold)],
            "height": 340,
        },
    )
    return f"<div class='grid2'>{reliability}{histogram}</div>"


# --- multiclass and regression ------------------------------------------------------------


def _multiclass_sections(page: Page, report: dict[str, Any]) -> None:
    confusion = report["confusion"]
    labels = confusion["labels"]
    matrix = confusion["matrix"]
    chart = page.chart(
        [
            {
                "type": "heatmap",
                "z": matrix,
                "x": labels,
                "y": labels,
                "colorscale": "Blues",
                "text": matrix,
                "texttemplate": "%{text}",
            }
        ],
        {
            "title": {"text": "confusion matrix (rows: actual, columns: predicted)"},
            "xaxis": {"title": {"text": "predicted"}, "type": "category"},
            "yaxis": {"title": {"text": "actual"}, "type": "category", "autorange": "reversed"},
            "height": max(320, 40 * len(labels) + 140),
        },
    )
    rows = "".join(
        f"<tr><td>{esc(c['class'])}</td><td class='n'>{c['support']:,}</td>"
        f"<td class='n'>{c['predicted']:,}</td><td class='n'>{fmt_num(c['precision'])}</td>"
        f"<td class='n'>{fmt_num(c['recall'])}</td><td class='n'>{fmt_num(c['f1'])}</td></tr>"
        for c in report["per_class"]
    )
    table = (
        "<table><tr><th>class</th><th>actual</th><th>predicted</th><th>precision</th>"
        f"<th>recall</th><th>F1</th></tr>{rows}</table>"
    )
    body = f"<div class='col'><div>{table}</div><div>{chart}</div></div>"
    page.section("classes", "Classes", body)


def _regression_sections(page: Page, report: dict[str, Any]) -> None:
    sample = report["predicted_vs_actual"]
    values = [*sample["predicted"], *sample["actual"]]
    lo, hi = (min(values), max(values)) if values else (0, 1)
    scatter = page.chart(
        [
            {
                "type": "scattergl",
                "mode": "markers",
                "x": sample["actual"],
                "y": sample["predicted"],
                "name": "rows",
                "marker": {"color": _BLUE, "size": 4, "opacity": 0.5},
            },
            _line([lo, hi], [lo, hi], "perfect", dash="dot", color=_GREY),
        ],
        {
            "title": {"text": f"predicted vs actual ({len(sample['actual']):,} sampled rows)"},
            "xaxis": {"title": {"text": "actual"}},
            "yaxis": {"title": {"text": "predicted"}},
            "height": 340,
        },
    )
    res = report["residuals"]
    hist = res["histogram"]
    edges = hist["edges"]
    residuals = page.chart(
        [
            {
                "type": "bar",
                "x": [(a + b) / 2 for a, b in itertools.pairwise(edges)],
                "y": hist["counts"],
                "marker": {"color": _BLUE},
            }
        ],
        {
            "title": {"text": "residuals (predicted − actual)"},
            "bargap": 0.02,
            "shapes": [_vline(0.0)],
            "height": 340,
        },
    )
    quantiles = ", ".join(f"{k} {fmt_num(v)}" for k, v in res["quantiles"].items())
    deciles = report["by_decile"]
    rows = "".join(
        f"<tr><td class='n'>[{fmt_num(a)}, {fmt_num(b)}]</td><td class='n'>{r:,}</td>"
        f"<td class='n'>{fmt_num(p)}</td><td class='n'>{fmt_num(y)}</td>"
        f"<td class='n'>{fmt_num(e)}</td><td class='n'>{fmt_num(s)}</td></tr>"
        for a, b, r, p, y, e, s in zip(
            deciles["lower"],
            deciles["upper"],
            deciles["rows"],
            deciles["mean_predicted"],
            deciles["mean_actual"],
            deciles["mae"],
            deciles["rmse"],
            strict=True,
        )
    )
    page.section(
        "residuals",
        "Residuals",
        f"<div class='grid2'>{scatter}{residuals}</div>"
        f"<p>Mean residual {fmt_num(res['mean'])} (std {fmt_num(res['std'])}, largest "
        f"|error| {fmt_num(res['max_abs'])}); quantiles: {esc(quantiles)}.</p>"
        "<h3>Error by decile of the prediction</h3><table><tr><th>predicted</th><th>rows</th>"
        "<th>mean predicted</th><th>mean actual</th><th>MAE</th><th>RMSE</th></tr>"
        f"{rows}</table>",
    )


# --- slices, training ---------------------------------------------------------------------

_SLICE_COLUMNS = {
    "binary": (
        "positives",
        "positive_rate",
        "mean_score",
        "roc_auc",
        "alert_rate",
        "precision",
        "recall",
    ),
    "multiclass": ("accuracy", "log_loss"),
    "regression": ("mean_actual", "mae", "rmse", "bias"),
}
_KEY = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "mae"}
_SHARES = {"positive_rate", "mean_score", "alert_rate", "precision", "recall", "accuracy"}


def _slices(page: Page, report: dict[str, Any]) -> str:
    kind = report["problem_type"]
    columns = _SLICE_COLUMNS[kind]
    key = _KEY[kind]
    overall = (report["metrics"].get(key) or {}).get("value")
    parts = [
        f"<p class='muted'>Flagged (highlighted): {esc(report['slices']['flag_rule'])}. "
        "Slicing by a column the model uses narrows that column's range, which lowers the "
        "ROC AUC within each slice by itself: compare such slices with each other.</p>"
    ]
    for col in report["slices"]["columns"]:
        head = "".join(f"<th>{esc(c)}</th>" for c in ("value", "rows", *columns, "flags"))
        body = ""
        for s in col["slices"]:
            cells = "".join(
                f"<td class='n'>{_pct(s.get(c)) if c in _SHARES else fmt_num(s.get(c))}</td>"
                for c in columns
            )
            body += (
                f"<tr{' class=flag' if s['flags'] else ''}><td>{esc(s['value'])}</td>"
                f"<td class='n'>{s['rows']:,}</td>{cells}<td>{esc('; '.join(s['flags']))}</td></tr>"
            )
        chart = page.chart(
            [
                {
                    "type": "bar",
                    "x": [str(s["value"]) for s in col["slices"]],
                    "y": [s.get(key) for s in col["slices"]],
                    "marker": {"color": [_RED if s["flags"] else _BLUE for s in col["slices"]]},
                    "text": [f"{s['rows']:,} rows" for s in col["slices"]],
                }
            ],
            {
                "title": {"text": f"{key} per {col['column']} ({col['kind']})"},
                "xaxis": {"type": "category"},
                "shapes": [_hline(overall)] if overall is not None else [],
            },
        )
        parts.append(
            f"<h3>{esc(col['column'])} <span class='muted'>{esc(col['kind'])}</span></h3>"
            f"{chart}<table><tr>{head}</tr>{body}</table>"
        )
    return "".join(parts)


def _learning(page: Page, curves: dict[str, Any]) -> str:
    traces = [
        _line(c["step"], c["value"], name, color=_RED if "valid" in name else _BLUE)
        for name, c in curves.items()
    ]
    return page.chart(
        traces,
        {
            "title": {"text": "loss per iteration of the best single model (fit on train)"},
            "xaxis": {"title": {"text": "iteration"}},
            "yaxis": {"title": {"text": "loss"}},
            "height": 320,
        },
    )


def _leaderboard(board: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td class='n'>{r.get('rank', '')}</td><td>{esc(r.get('family'))}</td>"
        f"<td class='n'>{fmt_num(r.get('valid_score'))}</td>"
        f"<td class='n'>{fmt_num(r.get('fit_seconds'))}</td>"
        f"<td class='n'>{fmt_num(r.get('predict_ms_per_row'))}</td>"
        f"<td class='muted'>{esc(_params(r.get('params') or {}))}</td></tr>"
        for r in board["rows"]
    )
    more = board.get("total", 0) - len(board["rows"])
    return (
        f"<p class='muted'>Validation {esc(board.get('metric') or 'score')}, best first"
        + (f"; {more} more trials not shown" if more > 0 else "")
        + ".</p><table><tr><th>#</th><th>family</th><th>score</th><th>fit s</th>"
        f"<th>ms/row</th><th>params</th></tr>{rows}</table>"
    )


def _diagnostics(findings: list[dict[str, Any]]) -> str:
    if not findings:
        return "<p><span class='badge ok'>ok</span> Nothing looked wrong in training.</p>"
    rows = "".join(
        f"<tr><td><span class='badge {esc(f['severity'])}'>{esc(f['severity'])}</span></td>"
        f"<td>{esc(f['check'])}</td><td>{esc(f['message'])}</td></tr>"
        for f in findings
    )
    return (
        "<table><tr><th></th><th>check</th><th>what was seen, and what to try</th></tr>"
        f"{rows}</table>"
    )


# --- small helpers ------------------------------------------------------------------------


def _line(
    x: list[Any],
    y: list[Any],
    name: str,
    *,
    dash: str = "solid",
    color: str = _BLUE,
    hover: list[Any] | None = None,
) -> dict[str, Any]:
    trace: dict[str, Any] = {
        "type": "scatter",
        "mode": "lines",
        "x": x,
        "y": y,
        "name": name,
        "line": {"color": color, "dash": dash},
    }
    if hover is not None:
        trace["text"] = [f"threshold {v:.4g}" if v is not None else "" for v in hover]
    return trace


def _marker(x: list[float], y: list[float], name: str) -> dict[str, Any]:
    return {
        "type": "scatter",
        "mode": "markers",
        "x": x,
        "y": y,
        "name": name,
        "marker": {"color": _RED, "size": 11, "symbol": "diamond"},
    }


def _vline(x: float) -> dict[str, Any]:
    return {
        "type": "line",
        "yref": "paper",
        "x0": x,
        "x1": x,
        "y0": 0,
        "y1": 1,
        "line": {"dash": "dot", "color": _GREY},
    }


def _hline(y: float) -> dict[str, Any]:
    return {
        "type": "line",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "y0": y,
        "y1": y,
        "line": {"dash": "dot", "color": _GREY},
    }


def _pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{100 * value:.{digits}f}%"


def _params(params: dict[str, Any]) -> str:
    text = ", ".join(
        f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()
    )
    return text if len(text) <= 90 else text[:87] + "..."
