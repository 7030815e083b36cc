"""CLI: init."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shipyard.cli._output import JsonFlag, console, emit_json


def register(app: typer.Typer) -> None:
    app.command("init")(init)


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
