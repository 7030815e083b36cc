"""The ``shipyard`` command line: one Typer sub-app per room; errors without tracebacks."""

from __future__ import annotations

import logging
import signal
import sys
import warnings
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.markup import escape

from shipyard.cli import (
    analyze,
    data,
    demo,
    deploy,
    endpoints,
    features,
    features_online,
    maintenance,
    models,
    monitor,
    monitors,
    pipelines,
    pitfalls,
    project,
    promotion,
    runs,
    security,
    server,
    train,
)
from shipyard.cli._audit import AuditedGroup
from shipyard.cli._output import err_console
from shipyard.errors import ShipyardError, ShipyardWarning

__all__ = ["app", "main"]

app = typer.Typer(
    name="shipyard",
    help="Shipyard: the whole life of a tabular ML model, from data to production.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    cls=AuditedGroup,  # each command that may change the project is audited, failures too
)


@app.callback()
def _root(
    ctx: typer.Context,
    project_path: Annotated[
        Path | None,
        typer.Option(
            "--project",
            "-C",
            help="Project folder (default: SHIPYARD_HOME, or the nearest .shipyard above).",
        ),
    ] = None,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            envvar="SHIPYARD_SERVER_URL",
            help="Run through a `shipyard server` at this URL (token: SHIPYARD_TOKEN): the "
            "read commands, promote, monitors run and alerts ack.",
        ),
    ] = None,
) -> None:
    ctx.obj = {"project_path": project_path, "server": server}


project.register(app)
data.register(app)
analyze.register(app)
features.register(app)
features_online.register(features.features_app)
monitor.register(app)
train.register(app)
models.register(app)
promotion.register(models.models_app, app)
runs.register(app)
deploy.register(app)
endpoints.register(app)
demo.register(app)
maintenance.register(app)
monitors.register(app)
pipelines.register(app)
security.register(app)
server.register(app)
pitfalls.register(app)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


_LIBRARY_WARNINGS = logging.getLogger("py.warnings")


def _warn(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
    **_: Any,
) -> None:
    """Shipyard's own warnings reach the user as one line; library warnings (scikit-learn's,
    pandas') go to the ``py.warnings`` logger, not the terminal: a user can do nothing about
    library noise, and a logging setup that handles that logger still sees them."""
    if issubclass(category, ShipyardWarning):
        err_console.print(f"[bold yellow]Warning:[/] {escape(str(message))}", soft_wrap=True)
        return
    text = warnings.formatwarning(message, category, filename, lineno, line)
    _LIBRARY_WARNINGS.warning("%s", text.rstrip())


def _warnings_to_the_log() -> None:
    warnings.showwarning = _warn
    if not _LIBRARY_WARNINGS.handlers:
        # Without a handler anywhere, logging's last resort would print them to stderr again.
        _LIBRARY_WARNINGS.addHandler(logging.NullHandler())


def main() -> None:
    """Entry point of the ``shipyard`` script: prints errors, exits non-zero, no traceback."""
    _warnings_to_the_log()
    # SIGTERM (a scheduler's stop, `kill`) unwinds like Ctrl-C, so a running job records its
    # run as failed on the way out. (`shipyard serve` installs uvicorn's own handler.)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        app()
    except ShipyardError as exc:
        # The message quotes user input: "[/]" in a name must print as is, not as markup.
        message = escape(exc.message)
        err_console.print(f"[bold red]Error ({exc.kind}):[/] {message}", soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("Interrupted.")
        sys.exit(130)
