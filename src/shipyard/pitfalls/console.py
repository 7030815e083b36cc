"""The pitfalls report in a terminal: one table, warnings first, folded to fit 80 columns."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from shipyard.pitfalls._checks import STATUSES, PitfallReport

__all__ = ["print_pitfalls"]

_STYLE = {"warning": "bold yellow", "ok": "green", "not checked": "dim"}


def print_pitfalls(report: PitfallReport, console: Console) -> None:
    """Print the report: a headline with the counts, then one row per pitfall (warnings,
    then ok, then not checked), then the notes."""
    counts = report.counts
    console.print(
        f"[bold]Pitfalls of {report.kind} {report.subject}[/]: "
        + ", ".join(f"[{_STYLE[s]}]{counts[s]} {s}[/]" for s in STATUSES)
    )
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_lines=False, expand=False)
    table.add_column("status", no_wrap=True)
    table.add_column("pitfall", overflow="fold", max_width=22)
    table.add_column("what was seen, and what to do", overflow="fold")
    rank = {s: i for i, s in enumerate(STATUSES)}
    for check in sorted(report.checks, key=lambda c: rank[c["status"]]):
        table.add_row(
            Text(check["status"], style=_STYLE[check["status"]]),
            Text(check["title"]),
            Text(check["detail"]),
        )
    console.print(table)
    for note in report.notes:
        console.print(f"[dim]{note}[/]")
