"""CLI: gc (find, and with --yes remove, what dead processes left behind), doctor."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli._context import project_of
from shipyard.cli._output import JsonFlag, console, emit_json, table

if TYPE_CHECKING:
    from shipyard.maintenance import Health


def register(app: typer.Typer) -> None:
    app.command("gc")(gc)
    app.command("doctor")(doctor)


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


def doctor(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Check that the catalog, the lake and the artifact store agree: every dataset version
    matches its fingerprint, every ready or aliased model version has a bundle that matches
    its manifest; runs whose process died are marked failed. Exit 1 on any inconsistency."""
    from shipyard.maintenance import check_health

    health = check_health(project_of(ctx))
    if as_json:
        emit_json({"ok": health.ok, **asdict(health)})
    else:
        _print_health(health)
    if not health.ok:
        raise typer.Exit(1)


def _print_health(health: Health) -> None:
    for title, findings in (
        ("Inconsistencies", health.problems),
        ("Repaired", health.repaired),
        ("Orphans (run `shipyard gc`)", health.orphans),
    ):
        if findings:
            rows = [(f.kind, f.object, f.problem, f.fix) for f in findings]
            console.print(table(title, ["kind", "object", "problem", "what to do"], rows))
    checked = ", ".join(f"{n} {what}" for what, n in health.checked.items())
    if health.ok:
        console.print(f"Consistent: checked {checked}.")
    else:
        console.print(f"{len(health.problems)} inconsistency(ies) found; checked {checked}.")
