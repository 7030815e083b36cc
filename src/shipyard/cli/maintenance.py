"""CLI: gc (find, and with --yes remove, what dead processes left behind)."""

from __future__ import annotations

from typing import Annotated

import typer

from shipyard.cli._context import project_of
from shipyard.cli._output import JsonFlag, console, emit_json, table


def register(app: typer.Typer) -> None:
    app.command("gc")(gc)


def gc(
    ctx: typer.Context,
    yes: Annotated[
        bool, typer.Option("--yes", help="Delete what was found (default: only list it).")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """List model bundles, report pages and lake folders that no catalog row names (left by
    a killed job or ingest); --yes deletes them."""
    from shipyard.maintenance import collect_garbage

    result = collect_garbage(project_of(ctx), delete=yes)
    if as_json:
        emit_json(result)
        return
    if not result.garbage:
        console.print("Nothing to collect: every bundle and lake folder is named in the catalog.")
        return
    rows = [(g.kind, g.location, g.reason) for g in result.garbage]
    console.print(table("Garbage", ["kind", "location", "why"], rows))
    count = len(result.garbage)
    if result.deleted:
        console.print(f"Deleted {count} item(s).")
    else:
        console.print(f"Dry run: nothing was deleted. Run `shipyard gc --yes` to delete {count}.")
