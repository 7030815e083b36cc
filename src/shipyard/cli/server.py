"""CLI: server (the REST API)."""

from __future__ import annotations

from typing import Annotated

import typer

from shipyard.cli._context import project_of
from shipyard.cli._output import console
from shipyard.cli.pipelines import say_fired


def register(app: typer.Typer) -> None:
    app.command("server")(server)


def server(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="Port to listen on, 1-65535; 0 picks a free one.")
    ] = 8000,
    no_studio: Annotated[
        bool, typer.Option("--no-studio", help="Serve the REST API only, without Studio at /.")
    ] = False,
    scheduler: Annotated[
        bool,
        typer.Option(
            "--scheduler", help="Also start scheduled pipeline runs (as `shipyard scheduler`)."
        ),
    ] = False,
) -> None:
    """Serve this project's REST API under /api/v1 and Studio, the web UI, at /; tokens with
    a role are required (Studio asks for one on its login page)."""
    from shipyard.server import serve_api

    project = project_of(ctx, local=True)
    env = project.settings.env

    def ready(url: str) -> None:
        console.print(f"Shipyard API ({env}) on {url}/api/v1 (Ctrl-C to stop)")
        if not no_studio:
            console.print(f"Studio on {url}/")
        if scheduler:
            console.print(f"Scheduler on: {len(project.catalog.list_schedules())} schedule(s)")

    serve_api(
        project, host=host, port=port, on_ready=ready, studio=not no_studio,
        scheduler=scheduler, on_fired=say_fired,
    )  # fmt: skip
