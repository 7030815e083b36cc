"""Render an evaluation report (from :func:`evaluate_test`) as a self-contained HTML page."""

from __future__ import annotations

from typing import Any

from shipyard.evaluation._plots import (
    BLUE,
    RED,
    binary_sections,
    hline,
    line,
    multiclass_sections,
    regression_sections,
)
from shipyard.evaluation._text import flagged_slices, pct, threshold_reading
from shipyard.htmlpage import Page, esc, fmt_num

__all__ = ["render_evaluation_html"]


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
        binary_sections(page, report)
    elif kind == "multiclass":
        multiclass_sections(page, report)
    else:
        regression_sections(page, report)
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
        cards.append(("positives", f"{report['positives']:,} ({pct(report['positive_rate'])})"))
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
                f"<td class='n'>{pct(s.get(c)) if c in _SHARES else fmt_num(s.get(c))}</td>"
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
                    "marker": {"color": [RED if s["flags"] else BLUE for s in col["slices"]]},
                    "text": [f"{s['rows']:,} rows" for s in col["slices"]],
                }
            ],
            {
                "title": {"text": f"{key} per {col['column']} ({col['kind']})"},
                "xaxis": {"type": "category"},
                "shapes": [hline(overall)] if overall is not None else [],
            },
        )
        parts.append(
            f"<h3>{esc(col['column'])} <span class='muted'>{esc(col['kind'])}</span></h3>"
            f"{chart}<table><tr>{head}</tr>{body}</table>"
        )
    return "".join(parts)


def _learning(page: Page, curves: dict[str, Any]) -> str:
    traces = [
        line(c["step"], c["value"], name, color=RED if "valid" in name else BLUE)
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


def _params(params: dict[str, Any]) -> str:
    text = ", ".join(
        f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()
    )
    return text if len(text) <= 90 else text[:87] + "..."
