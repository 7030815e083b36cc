"""CLI: serve, batch."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli._context import project_of
from shipyard.cli._output import JsonFlag, console, emit_json
from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    from shipyard.project import Project


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("batch")(batch)


def serve(
    ctx: typer.Context,
    ref: Annotated[
        str | None, typer.Argument(help="NAME@ALIAS, NAME:VERSION or NAME (or --endpoint).")
    ] = None,
    endpoint: Annotated[
        str | None,
        typer.Option(help="Serve this endpoint's variants instead, following its changes."),
    ] = None,
    env: Annotated[
        str | None, typer.Option(help="The endpoint's environment (default: SHIPYARD_ENV).")
    ] = None,
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
    /metrics (Prometheus). With --endpoint, serve an endpoint's variants."""
    from shipyard.serve import check_auth_mode, serve_model

    check_auth_mode(auth)  # before the model loads, so a typo fails at once
    if (ref is None) == (endpoint is None) or (env is not None and endpoint is None):
        raise InvalidInput(
            "Give a model to serve (shipyard serve fraud@prod) or an endpoint (shipyard serve "
            "--endpoint NAME [--env ENV]), not both; --env goes with --endpoint."
        )
    project = project_of(ctx)
    if endpoint is not None:
        _serve_endpoint(project, endpoint, env, host, port, capture, auth)
        return
    ref = str(ref)
    serve_model(
        project,
        ref,
        host=host,
        port=port,
        on_ready=lambda url: _ready(ref, url, capture),
        capture=capture,
        auth=auth,
    )


def _serve_endpoint(
    project: Project,
    name: str,
    env: str | None,
    host: str,
    port: int,
    capture: float | None,
    auth: str,
) -> None:
    from shipyard.serve import serve_endpoint

    if capture is not None:
        raise InvalidInput(
            "An endpoint keeps its own capture percentage; change it with `shipyard endpoints "
            f"update {name} --capture PERCENT`, not with serve --capture."
        )
    where = env or project.settings.env
    serve_endpoint(
        project,
        name,
        env=where,
        host=host,
        port=port,
        on_ready=lambda url: console.print(
            f"Serving endpoint {where}/{name} on {url} (Ctrl-C to stop)"
        ),
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
        emit_json({"dataset": v, "unchanged": result.unchanged})
        return
    state = "unchanged, same as" if result.unchanged else "created"
    console.print(f"Scored {v.num_rows:,} rows with {ref}: {state} {v.ref}")
