"""What the CLI acts on: a project (--project, SHIPYARD_HOME, or the nearest one above the
cwd), or a Shipyard server (--server URL or SHIPYARD_SERVER_URL, with SHIPYARD_TOKEN)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer

from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    from shipyard.client import Client
    from shipyard.project import Project

T = TypeVar("T")


def _root_obj(ctx: typer.Context) -> dict[str, object]:
    root = ctx.find_root()
    if root.obj is None:
        root.obj = {}
    obj: dict[str, object] = root.obj
    return obj


def project_of(ctx: typer.Context, *, local: bool = False) -> Project:
    """Open the project once per command and close it when the command ends.

    Raises:
        InvalidInput: A server is set (``--server``, SHIPYARD_SERVER_URL) and this command
            has no remote form (``local`` commands, like ``server``, always run here).
    """
    from shipyard.project import open_project  # settings and backends: not for --help

    obj = _root_obj(ctx)
    if obj.get("server") and not local:
        raise InvalidInput(
            f"`{ctx.command_path}` works on a project folder and has no remote form, but a "
            f"server is set ({obj['server']}). Run it without --server (unset "
            "SHIPYARD_SERVER_URL) on a project; through a server, the read commands and "
            "promote, monitors run and alerts ack work."
        )
    if "project" not in obj:
        path = obj.get("project_path")
        from shipyard.cli._audit import cli_actor

        project = open_project(path if isinstance(path, Path) else None, face="cli")
        project.actor = cli_actor(project.actor)  # recorded with this host as its address
        obj["project"] = project
        ctx.find_root().call_on_close(project.close)
    opened: Project = obj["project"]  # type: ignore[assignment]
    return opened


def remote_of(ctx: typer.Context) -> Client | None:
    """The client of the server the command runs through, or None to run on a project."""
    obj = _root_obj(ctx)
    url = obj.get("server")
    if not url:
        return None
    if "client" not in obj:
        from shipyard.client import Client
        from shipyard.settings import load_settings

        token = load_settings().token
        client = Client(str(url), token=token.get_secret_value() if token else None)
        obj["client"] = client
        ctx.find_root().call_on_close(client.close)
    found: Client = obj["client"]  # type: ignore[assignment]
    return found


def either(ctx: typer.Context, remote: Callable[[Client], T], local: Callable[[Project], T]) -> T:
    """``remote(client)`` through the server when one is set, else ``local(project)``."""
    client = remote_of(ctx)
    return remote(client) if client is not None else local(project_of(ctx))
