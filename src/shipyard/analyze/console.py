"""Terminal summaries of analyze reports, printed with Rich."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from shipyard.analyze._bias_common import flagged, too_few
from shipyard.htmlpage import fmt_bytes

__all__ = [
    "print_bias_summary",
    "print_check_summary",
    "print_posttraining_summary",
    "print_profile_summary",
]

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _n(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, str) and len(v) == 19 and v[10] == "T":  # an ISO datetime: keep it short
        return v[:10] if v.endswith("T00:00:00") else v[:16].replace("T", " ")
    if isinstance(v, float):
        return f"{v:,.4g}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def print_profile_summary(profile: dict[str, Any], console: Console) -> None:
    """Print a profile's overview, its alerts and one line per column."""
    t = profile["table"]
    console.print(
        f"[bold]{t['rows']:,} rows × {t['columns']} columns[/] · "
        f"{t['duplicate_rows']:,} duplicate rows · {t['missing_cells_pct']:.2f}% cells missing · "
        f"{fmt_bytes(t['memory_bytes'])} in memory · "
        + ", ".join(f"{v} {k}" for k, v in sorted(t["semantic_types"].items()))
    )
    alerts = profile["alerts"]
    if alerts:
        at = Table(title=f"Alerts ({len(alerts)})", title_justify="left")
        for c in ("severity", "column", "message"):
            at.add_column(c, overflow="fold", no_wrap=c == "column")
        for a in alerts:
            st = _STYLE.get(a["severity"], "")
            at.add_row(
                f"[{st}]{a['severity']}[/]", Text(a["column"] or "(table)"), Text(a["message"])
            )
        console.print(at)
    else:
        console.print("[green]No alerts.[/]")
    target = profile.get("target")
    if target and target.get("classes"):
        classes = ", ".join(f"{c['value']!r}: {c['pct']:.1f}%" for c in target["classes"])
        console.print(f"Target [bold]{target['column']}[/] ({target['kind']}): {classes}")
    if target and target.get("associations"):
        top = ", ".join(
            f"{a['column']} ({a['metric']} {a['value']:.3f})" for a in target["associations"][:5]
        )
        console.print(f"Most associated with the target: {top}")
    console.print(_columns_table(profile["columns"], wide=console.width >= 110))


def _columns_table(columns: list[dict[str, Any]], *, wide: bool) -> Table:
    """One line per column. Under 110 characters the mean is left out (it is in the HTML and
    --json), so names, types and values stay whole at 80."""
    table = Table(title="Columns", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    stats = ("min", "mean", "max") if wide else ("min", "max")
    for c in ("column", "type", "missing %", "distinct", *stats, "top value"):
        numeric = c in ("missing %", "distinct", *stats)
        # Names and types are never cut or folded; a long value folds rather than loses text.
        table.add_column(
            c,
            justify="right" if numeric else "left",
            no_wrap=c in ("column", "type"),
            overflow="fold",
        )
    for col in columns:
        top = (col.get("top_values") or [{}])[0]
        table.add_row(
            Text(col["name"]),
            col["semantic_type"],
            f"{col['missing_pct']:.1f}",
            _n(col.get("distinct")),
            *(_n(col.get(k)) for k in stats),
            Text(f"{top['value']!s} {top['pct']:.0f}%" if top else ""),
        )
    return table


def print_bias_summary(report: dict[str, Any], console: Console, *, full: bool = False) -> None:
    """Print a pre-training bias report: what is flagged and why, then one line per group.

    With ``full``, every metric of every group follows, one table per group.
    """
    console.print(
        f"[bold]Pre-training bias[/] · label [bold]{escape(report['label'])}[/] "
        f"(positive: {escape(repr(report['positive']))}) · facet "
        f"[bold]{escape(report['facet'])}[/] · {report['rows']:,} rows · positive rate "
        f"{100 * report['positive_rate']:.2f}%"
    )
    _print_verdicts(report, console)
    table = _table(
        "Positive rate per group (DPL judges it)",
        ("group", "rows", "positives", "rate", "95% CI", "x rest", "p", "verdict"),
    )
    for g in report["facets"]:
        ev = g["metrics"]["DPL"]["evidence"]
        lo, hi = g["positive_rate_d_ci95"]
        table.add_row(
            _group_label(g),
            f"{g['n_d']:,}",
            f"{g['positives_d']:,}",
            f"{100 * g['positive_rate_d']:.2f}%",
            f"{100 * lo:.2f}-{100 * hi:.2f}",
            "—" if ev["ratio"] is None else f"{ev['ratio']:.2f}",
            f"{ev['p_value']:.2g}",
            _verdict(g["metrics"]["DPL"]["status"]),
        )
    console.print(table)
    _print_full(report, console, full)


def print_posttraining_summary(
    report: dict[str, Any], console: Console, *, full: bool = False
) -> None:
    """Print a post-training bias report: what is flagged and why, then one line per group.

    With ``full``, every metric of every group follows, one table per group.
    """
    console.print(
        f"[bold]Post-training bias[/] · label [bold]{escape(report['label'])}[/] "
        f"(positive: {escape(repr(report['positive']))}) · facet "
        f"[bold]{escape(report['facet'])}[/] · {report['rows']:,} rows · observed positive rate "
        f"{100 * report['positive_rate']:.1f}%, predicted "
        f"{100 * report['predicted_positive_rate']:.1f}%"
    )
    _print_verdicts(report, console)
    table = _table(
        "Confusion counts per group",
        ("group", "rows", "TP", "FP", "FN", "TN", "flagged", "too few to judge"),
    )
    for g in report["facets"]:
        cm = g["confusion_d"]
        statuses = {k: m["status"] for k, m in g["metrics"].items()}
        table.add_row(
            _group_label(g),
            f"{g['n_d']:,}",
            *(f"{cm[c]:,}" for c in ("tp", "fp", "fn", "tn")),
            f"[bold red]{', '.join(k for k, s in statuses.items() if s == 'flagged')}[/]",
            ", ".join(k for k, s in statuses.items() if s == "too few"),
        )
    console.print(table)
    _print_full(report, console, full)


def _print_verdicts(report: dict[str, Any], console: Console) -> None:
    """The flagged metrics with their evidence, the groups too small to judge, the rule."""
    facet, hits = report["facet"], flagged(report)
    if hits:
        groups = len({id(g) for g, _, _ in hits})
        console.print(
            f"[bold red]Flagged:[/] {len(hits)} metric(s) in {groups} of "
            f"{len(report['facets'])} group(s)"
        )
        for g, key, m in hits:
            value = "undefined" if m["value"] is None else f"{m['value']:+.4f}"
            console.print(
                f"  [bold]{escape(facet)} {escape(g['description'])}[/]: [bold red]{key}[/] "
                f"{value} · {escape(m['evidence']['text'])}"
            )
    else:
        console.print(f"[green]Nothing flagged[/] in {len(report['facets'])} group(s).")
    small: dict[str, list[str]] = {}
    for g, key, _ in too_few(report):
        small.setdefault(g["description"], []).append(key)
    if small:
        console.print(
            "[yellow]Too few rows or events to judge:[/] "
            + "; ".join(
                f"{escape(facet)} {escape(d)} ({', '.join(keys)})" for d, keys in small.items()
            )
        )
    console.print(f"[dim]{escape(report['rule']['text'])}[/]")


def _print_full(report: dict[str, Any], console: Console, full: bool) -> None:
    if not full:
        console.print("[dim]Every metric of every group: --all, --json or the HTML report.[/]")
        return
    for group in report["facets"]:
        table = _table(
            f"{report['facet']} {group['description']} (n={group['n_d']:,}) vs the rest "
            f"(n={group['n_a']:,})",
            ("metric", "value", "verdict", "reading"),
        )
        for key, m in group["metrics"].items():
            value = "—" if m["value"] is None else f"{m['value']:.4f}"
            table.add_row(key, value, _verdict(m["status"]), escape(m["reading"]))
        console.print(table)


def _table(title: str, columns: tuple[str, ...]) -> Table:
    # A light box: the per-group table fits 80 columns with its eight columns.
    table = Table(
        title=escape(title),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    for i, c in enumerate(columns):
        # Counts and rates never wrap; the last column (verdicts, readings) takes the rest.
        table.add_column(c, overflow="fold", no_wrap=i < len(columns) - 1)
    return table


def _group_label(g: dict[str, Any]) -> str:
    """The facet value for a categorical group ('PT'), the description for a threshold."""
    desc = g["description"]
    return escape(str(g["value"]) if desc.startswith("= ") else desc)


_VERDICT_STYLE = {"flagged": "bold red", "too few": "yellow", "not significant": "", "ok": "green"}


def _verdict(status: str) -> str:
    style = _VERDICT_STYLE.get(status, "dim")
    return f"[{style}]{status}[/]" if style else status


def print_check_summary(report: dict[str, Any], console: Console) -> None:
    """Print a data-quality check: passed or failed, then one line per violated rule."""
    counts = report["counts"]
    verdict = "[bold green]passed[/]" if report["passed"] else "[bold red]failed[/]"
    console.print(
        f"Data quality {verdict} · {report['rows']:,} rows · {report['rules_checked']} rules · "
        f"{counts['error']} error(s), {counts['warning']} warning(s)"
    )
    if not report["violations"]:
        return
    table = Table(title="Violations", title_justify="left")
    for c, just in (
        ("severity", "left"),
        ("column", "left"),
        ("rule", "left"),
        ("expected", "left"),
        ("found", "left"),
        ("rows", "right"),
        ("examples", "left"),
    ):
        table.add_column(c, justify=just, overflow="fold")  # type: ignore[arg-type]
    for v in report["violations"]:
        expected = v["expected"]
        if isinstance(expected, list):
            expected = ", ".join(map(str, expected[:8])) + (" ..." if len(expected) > 8 else "")
        found = v["found"]
        if isinstance(found, list):
            found = ", ".join(f"{f['value']!s} ({f['count']:,})" for f in found[:5])
        examples = ", ".join(
            f"row {e['row']}: {e['value']!s}"
            if "row" in e
            else f"{e['value']!s} ×{e['occurrences']}"
            for e in v["examples"][:3]
        )
        st = _STYLE.get(v["severity"], "")
        table.add_row(
            f"[{st}]{v['severity']}[/]",
            Text(v["column"]),
            v["rule"],
            Text(str(expected)),
            Text("" if found is None else str(found)),
            _n(v["count"]),
            Text(examples),
        )
    console.print(table)
