"""The project the CLI acts on: --project, SHIPYARD_HOME, or the nearest one above the cwd."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from shipyard.project import Project


def project_of(ctx: typer.Context) -> Project:
    """Open the project once per command and close it when the command ends."""
    from shipyard.project import open_project  # settings and backends: not for --help

    root = ctx.find_root()
    if root.obj is None:
        root.obj = {}
    if "project" not in root.obj:
        path: Path | None = root.obj.get("project_path")
        project = open_project(path, face="cli")
        root.obj["project"] = project
        ctx.call_on_close(project.close)
    opened: Project = root.obj["project"]
    return opened
