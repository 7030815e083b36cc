"""CLI: drift between two datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shipyard.cli._context import project_of
from shipyard.cli._output import JsonFlag, console, emit_json
from shipyard.outfile import check_output_path, write_output


def register(app: typer.Typer) -> None:
    app.command("drift")(drift)


def drift(
    ctx: typer.Context,
    reference: Annotated[str, typer.Argument(help="Baseline dataset: NAME or NAME@VERSION.")],
    current: Annotated[str, typer.Argument(help="Dataset to check: NAME or NAME@VERSION.")],
    columns: Annotated[
        str | None, typer.Option(help="Comma-separated columns to compare (default: all shared).")
    ] = None,
    html: Annotated[Path | None, typer.Option(help="Write the HTML report to FILE.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Compare two datasets column by column and as a whole; exit 1 if anything drifted.

    Small samples (at most 1,000 rows a side) use KS and chi-square tests; larger ones use
    the Wasserstein distance in reference SDs and the Jensen-Shannon distance, each with a
    threshold, and a test that the move is beyond sampling noise. P-values are Holm-corrected
    across columns. A classifier that tries to tell the rows apart checks the whole table.
    """
    from shipyard.monitor import compare

    if html is not None:
        check_output_path(html, option="--html")
    wanted = None
    if columns is not None:
        wanted = [c.strip() for c in columns.split(",") if c.strip()]
    project = project_of(ctx)
    with console.status("Comparing..."):
        report = compare(project, reference, current, columns=wanted)
    if html is not None:
        write_output(html, report.to_html(), option="--html")
    if as_json:
        emit_json(report.to_dict())
    else:
        from shipyard.monitor.console import print_drift_summary

        print_drift_summary(report, console)
        if html is not None:
            console.print(f"HTML report: {html}")
    if report.drifted:
        raise typer.Exit(1)
