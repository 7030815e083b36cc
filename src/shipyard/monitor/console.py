"""A drift report in the terminal: one table line per column, then why each drifted column
did, then the multivariate check. Fits 80 columns."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from shipyard.monitor.drift import DriftReport

__all__ = ["print_drift_summary"]

_TESTS = {"ks": "KS", "chi_square": "chi2", "wasserstein": "W1/SD", "jensen_shannon": "JS"}


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    if value != 0 and abs(value) < 1e-3:
        return f"{value:.1e}"
    return f"{value:.3g}" if abs(value) < 1e4 else f"{value:,.0f}"


def print_drift_summary(report: DriftReport, console: Console) -> None:
    """Print the report for people (the CLI's ``shipyard drift`` without ``--json``)."""
    console.print(
        f"Drift of [bold]{report.current}[/] ({report.current_rows:,} rows) against "
        f"[bold]{report.reference}[/] ({report.reference_rows:,} rows)",
        highlight=False,
    )
    table = Table(header_style="bold", title_justify="left")
    for i, name in enumerate(("column", "kind", "test", "value", "limit", "p adj", "drift")):
        table.add_column(
            name, no_wrap=i == 0, overflow="fold", justify="left" if i < 3 else "right"
        )
    for c in report.columns:
        table.add_row(
            Text(c.column),
            "num" if c.kind == "numeric" else "cat",
            _TESTS.get(c.test, c.test),
            _num(c.statistic),
            _num(c.threshold),
            _num(c.p_adjusted),
            Text("DRIFT", style="bold red") if c.drifted else Text("ok", style="green"),
        )
    console.print(table)
    for c in report.columns:
        if c.drifted:
            console.print(Text(f"  {c.column}: ", style="bold") + Text(c.explanation))
    mv = report.multivariate
    if mv is not None:
        verdict = Text("DRIFT", style="bold red") if mv.drifted else Text("ok", style="green")
        console.print(Text("Multivariate: ") + verdict + Text(f" ({mv.explanation})"))
    for name, why in report.skipped.items():
        console.print(Text(f"Skipped {name}: {why}", style="dim"))
    for side, names in (
        ("reference", report.only_in_reference),
        ("current", report.only_in_current),
    ):
        if names:
            console.print(Text(f"Only in the {side}: {', '.join(names)}", style="dim"))
    how = (
        "tests decide (a side has at most 1,000 rows): KS for numbers, chi2 for categories"
        if report.regime == "tests"
        else "distances decide, when beyond sampling noise: W1/SD is the Wasserstein "
        "distance in reference SDs, JS the Jensen-Shannon distance"
    )
    console.print(
        Text(
            f"{report.n_drifted} of {report.n_columns} columns drifted; {how}; Holm "
            f"correction across columns at alpha {report.alpha:g}."
        )
    )
