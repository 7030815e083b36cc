"""CLI: init, audit."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shipyard.cli._context import project_of
from shipyard.cli._output import JsonFlag, console, emit_json, table


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("audit")(audit)


def init(
    directory: Annotated[Path, typer.Argument(help="Folder to make a project.")] = Path("."),
    as_json: JsonFlag = False,
) -> None:
    """Make a project: a .shipyard/ folder with catalog.db, artifacts/ and lake/."""
    from shipyard.project import init_project

    project = init_project(directory, face="cli")
    created = project.is_new
    project.close()
    if as_json:
        emit_json({"project": str(project.root), "created": created})
        return
    verb = "Created" if created else "Already a project:"
    console.print(f"{verb} {project.root / '.shipyard'}")


def audit(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="How many events.")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """Show the audit trail: who changed what, when, from which face."""
    events = project_of(ctx).catalog.list_events(limit)
    if as_json:
        emit_json(events)
        return
    console.print(
        table(
            "Audit trail (newest first)",
            ["when (UTC)", "actor", "face", "action", "object"],
            [
                (e.at.strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.face, e.action, e.object_id)
                for e in events
            ],
        )
    )
