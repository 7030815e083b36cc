"""CLI: pitfalls (every seed pitfall of a dataset or a model) and compare (is a sample
representative of another)."""

from __future__ import annotations

from typing import Annotated

import typer

from shipyard.cli._context import project_of
from shipyard.cli._output import JsonFlag, console, emit_json

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command("pitfalls")(pitfalls)
    app.command("compare")(compare)


def pitfalls(
    ctx: typer.Context,
    ref: Annotated[
        str,
        typer.Argument(help="A dataset (NAME@N) or a model (NAME:N, NAME@prod); or a NAME."),
    ],
    target: Annotated[
        str | None, typer.Option("--target", "-t", help="A dataset's label column.")
    ] = None,
    facet: Annotated[
        str | None, typer.Option(help="A dataset's sensitive column: label bias across it.")
    ] = None,
    positive: Annotated[
        str | None, typer.Option(help="The favourable label value for --facet.")
    ] = None,
    against: Annotated[
        str | None,
        typer.Option(help="Compare the dataset with this one (the data a model will score)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List every pitfall check that applies to a dataset or a model, with its status.

    A status is warning (what was seen and what to do), ok, or not checked (and why).
    """
    from shipyard.pitfalls import pitfalls_of, print_pitfalls

    project = project_of(ctx)
    with console.status("Checking..."):
        report = pitfalls_of(
            project, ref, target=target, facet=facet, positive=positive, against=against
        )
    if as_json:
        emit_json(report.to_json())
        return
    print_pitfalls(report, console)


def compare(
    ctx: typer.Context,
    reference: Annotated[str, typer.Argument(help="The training dataset: NAME or NAME@N.")],
    other: Annotated[str, typer.Argument(help="The dataset to compare: NAME or NAME@N.")],
    columns: Annotated[
        str | None, typer.Option(help="Comma-separated columns (default: all shared).")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option(help="A column to leave out (repeatable).")
    ] = None,
    max_rows: Annotated[int, typer.Option(help="Rows sampled from each dataset.")] = 20_000,
    as_json: JsonFlag = False,
) -> None:
    """Can a classifier tell two datasets apart? Exit 1 when it can (ROC AUC >= 0.6).

    A quick LightGBM learns which dataset each sampled row comes from (3-fold
    cross-validation); its ROC AUC is 0.5 when the two are alike. Dates, identifiers and
    columns Shipyard wrote are left out.
    """
    from shipyard.analyze import compare_datasets

    wanted = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    project = project_of(ctx)
    with console.status("Comparing..."):
        report = compare_datasets(
            project, reference, other, columns=wanted, exclude=exclude or (), max_rows=max_rows
        )
    if as_json:
        emit_json(report)
    else:
        _print_compare(report)
    if report["status"] == "warning":
        raise typer.Exit(1)


def _print_compare(report: dict) -> None:
    from shipyard.cli._output import table

    colour = "yellow" if report["status"] == "warning" else "green"
    console.print(f"[{colour}]{report['status']}[/] {report['message']}")
    if report["columns"]:
        console.print(
            table(
                "What separates them",
                ["column", "share of gain", "AUC alone"],
                [
                    (
                        c["column"],
                        f"{c['importance']:.0%}",
                        "-" if c["auc"] is None else f"{c['auc']:.3f}",
                    )
                    for c in report["columns"]
                ],
            )
        )
    for column, why in report["left_out"].items():
        console.print(f"  left out: {column} ({why})")
