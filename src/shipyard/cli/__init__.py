"""The ``shipyard`` command line: one Typer sub-app per room; errors without tracebacks."""

from __future__ import annotations

import signal
import sys
import warnings
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.markup import escape

from shipyard.cli import analyze, data, demo, deploy, maintenance, models, project, runs, train
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
) -> None:
    ctx.obj = {"project_path": project_path}


project.register(app)
data.register(app)
analyze.register(app)
train.register(app)
models.register(app)
runs.register(app)
deploy.register(app)
demo.register(app)
maintenance.register(app)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


_show_warning = warnings.showwarning


def _warn(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
    **_: Any,
) -> None:
    """Show Shipyard's own warnings as one line for the user; others as Python does."""
    if issubclass(category, ShipyardWarning):
        err_console.print(f"[bold yellow]Warning:[/] {escape(str(message))}", soft_wrap=True)
    else:
        _show_warning(message, category, filename, lineno, file, line)


def main() -> None:
    """Entry point of the ``shipyard`` script: prints errors, exits non-zero, no traceback."""
    # SIGTERM (a scheduler's stop, `kill`) unwinds like Ctrl-C, so a running job records its
    # run as failed on the way out. (`shipyard serve` installs uvicorn's own handler.)
    signal.signal(signal.SIGTERM, _interrupt)
    warnings.showwarning = _warn
    try:
        app()
    except ShipyardError as exc:
        err_console.print(f"[bold red]Error ({exc.kind}):[/] {exc.message}", soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("Interrupted.")
        sys.exit(130)
