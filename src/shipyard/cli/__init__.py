"""The ``shipyard`` command line: one Typer sub-app per room; errors without tracebacks."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from shipyard.cli import analyze, data, demo, deploy, models, project, runs
from shipyard.cli._output import err_console
from shipyard.errors import ShipyardError

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
models.register(app)
runs.register(app)
deploy.register(app)
demo.register(app)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _warnings_to_the_log() -> None:
    """Send Python warnings (scikit-learn's, pandas') to the ``py.warnings`` logger, not the
    terminal: a user can do nothing about library noise. A logging setup that handles that
    logger still sees them."""
    logging.captureWarnings(True)
    quiet = logging.getLogger("py.warnings")
    if not quiet.handlers:
        # Without a handler anywhere, logging's last resort would print them to stderr again.
        quiet.addHandler(logging.NullHandler())


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
