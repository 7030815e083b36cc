"""Terminal views of training results (Rich): the leaderboard, the evaluation report."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from shipyard.evaluation._text import flagged_slices, threshold_reading

__all__ = [
    "flagged_slices",
    "leaderboard_table",
    "print_evaluation_summary",
    "search_notes",
    "threshold_reading",
]


def leaderboard_table(rows: list[dict[str, Any]], limit: int = 10) -> Table:
    """The AutoML leaderboard: rank, family, validation score, fit time, latency, params."""
    out = Table(title="Leaderboard (validation)", title_justify="left", header_style="bold")
    for column in ("#", "family", "score", "fit s", "ms/row", "params"):
        out.add_column(column)
    for r in rows[:limit]:
        out.add_row(
            str(r["rank"]),
            r["family"],
            f"{r['valid_score']:.4f}",
            f"{r['fit_seconds']:.2f}",
            f"{r['predict_ms_per_row']:.3f}",
            _short(r.get("params", {})),
        )
    return out


def search_notes(search: dict[str, Any]) -> list[str]:
    """Lines that say why the leaderboard lacks a family or an ensemble, and how the search
    ended when it was not by its budget (from an AutoML job's search summary)."""
    lines = []
    tallies = search.get("family_trials") or {}
    for name, tried in tallies.items():
        if tried.get("note"):
            lines.append(f"  [yellow]{name}:[/] {tried['note']}")
    spent = sorted(
        ((name, t) for name, t in tallies.items() if t.get("seconds")),
        key=lambda item: -item[1]["seconds"],
    )
    if spent:
        lines.append(
            "  fit time: "
            + ", ".join(f"{name} {t['seconds']:.1f} s ({_n_trials(t)})" for name, t in spent)
        )
    if search.get("target_note"):
        lines.append(f"  target: {search['target_note']}")
    if search.get("ensemble_note"):
        lines.append(f"  ensemble: {search['ensemble_note']}")
    if search.get("stack_note"):
        lines.append(f"  stack: {search['stack_note']}")
    if search.get("converged_after"):
        lines.append(
            f"  search: converged after {search['converged_after']:,} trials: the best "
            f"validation score did not improve in the last {search.get('unimproved_trials')}"
        )
    if search.get("duplicates"):
        lines.append(
            f"  search: {search['duplicates']:,} proposals repeated a trial already run "
            "(not fit again)"
        )
    return lines


def _n_trials(tally: dict[str, Any]) -> str:
    n = tally.get("trials", 0)
    return f"{n} trial{'' if n == 1 else 's'}"


def _short(params: dict[str, Any]) -> str:
    text = ", ".join(
        f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()
    )
    return text if len(text) <= 60 else text[:57] + "..."


def print_evaluation_summary(report: dict[str, Any], console: Console) -> None:
    """The evaluation report in a terminal: metrics with intervals, the threshold, top-k,
    flagged slices, bias flags and diagnostics."""

    console.print(
        f"[bold]{report.get('model', '')}[/] evaluated on {report['rows']:,} test rows "
        f"of {report.get('dataset') or 'the training table'} ({report['problem_type']})"
    )
    metrics = Table(title="Test metrics (95% bootstrap interval)", title_justify="left")
    for column in ("metric", "value", "interval"):
        metrics.add_column(column, justify="left" if column == "metric" else "right")
    for key, m in report["metrics"].items():
        ci = m.get("ci95")
        metrics.add_row(key, _num(m.get("value")), f"{_num(ci[0])} – {_num(ci[1])}" if ci else "-")
    console.print(metrics)
    if report["problem_type"] == "binary":
        console.print(threshold_reading(report["threshold"]))
        if report.get("top_k"):
            top = Table(title="Top-k of the scores", title_justify="left")
            for column in ("top", "rows", "positives", "precision", "recall", "lift"):
                top.add_column(column, justify="right")
            for r in report["top_k"]:
                top.add_row(
                    f"{100 * r['share']:g}%" + (" (budget)" if r["alert_budget"] else ""),
                    f"{r['k']:,}",
                    f"{r['positives']:,}",
                    f"{r['precision']:.1%}",
                    f"{r['recall']:.1%}",
                    f"{r['lift']:.1f}x",
                )
            console.print(top)
    flagged = flagged_slices(report)
    if flagged:
        console.print(f"[yellow]{len(flagged)} slice(s) much worse than overall:[/]")
        for column, s in flagged:
            console.print(
                f"  {column} = {s['value']} ({s['rows']:,} rows): {'; '.join(s['flags'])}"
            )
    elif report.get("slices"):
        columns = ", ".join(c["column"] for c in report["slices"]["columns"])
        console.print(f"No slice of {columns} is much worse than overall.")
    bias = report.get("bias")
    if bias:
        _print_bias(bias, console)
    for finding in report.get("diagnostics") or []:
        console.print(f"  [yellow]diagnostic {finding['check']}:[/] {finding['message']}")


def _print_bias(bias: dict[str, Any], console: Console) -> None:
    if bias.get("error"):
        console.print(
            f"[yellow]Post-training bias on {bias['facet']} not computed:[/] {bias['error']}"
        )
        return
    flags = [
        (g["description"], key, m)
        for g in bias["facets"]
        for key, m in g["metrics"].items()
        if m["flag"]
    ]
    if not flags:
        console.print(f"Post-training bias on {bias['facet']}: no metric past its limit.")
        return
    console.print(f"[red]Post-training bias on {bias['facet']}: {len(flags)} metric(s) flagged[/]")
    for description, key, m in flags:
        shown = "undefined" if m["value"] is None else f"{m['value']:.4f}"
        console.print(f"  {bias['facet']} {description}: {key} {shown}. {m['reading']}")


def _num(value: Any) -> str:
    return "-" if value is None else f"{value:.4f}"
