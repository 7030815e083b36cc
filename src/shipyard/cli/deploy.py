"""CLI: serve, batch."""

from __future__ import annotations

from typing import Annotated

import typer

from shipyard.cli._context import project_of
from shipyard.cli._output import JsonFlag, console, emit_json


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("batch")(batch)


def serve(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME@ALIAS, NAME:VERSION or NAME.")],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="Port to listen on, 1-65535; 0 picks a free one.")
    ] = 8080,
    capture: Annotated[
        float | None,
        typer.Option(
            help="Percentage of requests captured to the artifact store, 0-100 "
            "(default: SHIPYARD_SERVE_CAPTURE, else 0). Query them as capture_<model>."
        ),
    ] = None,
    auth: Annotated[
        str,
        typer.Option(
            help="'required': /invocations, /v1/predict and /v1/model need a bearer token "
            "(`shipyard tokens create`); 'none': open."
        ),
    ] = "none",
) -> None:
    """Serve a model over HTTP: /ping, /invocations (SageMaker), /v1/predict, /openapi.json,
    /metrics (Prometheus)."""
    from shipyard.serve import check_auth_mode, serve_model

    check_auth_mode(auth)  # before the model loads, so a typo fails at once
    project = project_of(ctx)
    serve_model(
        project,
        ref,
        host=host,
        port=port,
        on_ready=lambda url: _ready(ref, url, capture),
        capture=capture,
        auth=auth,
    )


def _ready(ref: str, url: str, capture: float | None) -> None:
    note = f", capturing {capture:g}% of requests" if capture else ""
    console.print(f"Serving {ref} on {url}{note} (Ctrl-C to stop)")


def batch(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="The model: NAME@ALIAS, NAME:VERSION or NAME.")],
    input_ref: Annotated[str, typer.Option("--input", help="Dataset to score: NAME or NAME@N.")],
    output: Annotated[str, typer.Option("--output", help="Name of the scored dataset.")],
    batch_rows: Annotated[int | None, typer.Option(help="Rows per batch.")] = None,
    capture: Annotated[
        bool,
        typer.Option(
            "--capture", help="Also capture every scored row, as the inference server does."
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Score a dataset with a model into a new dataset version (streams in batches)."""
    from rich.progress import Progress

    from shipyard.deploy import batch_transform

    project = project_of(ctx)
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("Scoring", total=None)
        result = batch_transform(
            project,
            ref,
            input_ref,
            output,
            batch_rows=batch_rows,
            capture=capture,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    v = result.version
    if as_json:
        emit_json({"dataset": v, "unchanged": result.unchanged, "comparison": result.comparison})
        return
    state = "unchanged, same as" if result.unchanged else "created"
    console.print(f"Scored {v.num_rows:,} rows with {ref}: {state} {v.ref}")
    comparison = result.comparison or {}
    if comparison:
        colour = {"ok": "green", "warning": "yellow"}.get(comparison["status"], "cyan")
        console.print(
            f"[{colour}]Input vs the model's training data ({comparison['status']}):[/] "
            f"{comparison['message']}"
        )
