"""CLI: serve, batch."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli._context import project_of
from shipyard.cli._output import JsonFlag, console, emit_json
from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    from shipyard.project import Project


_Capture = Annotated[
    float | None,
    typer.Option(
        help="Percentage of requests captured to the artifact store, 0-100 "
        "(default: SHIPYARD_SERVE_CAPTURE, else 0). Query them as capture_<model>."
    ),
]
_Auth = Annotated[
    str,
    typer.Option(
        help="'required': /invocations, /v1/predict and /v1/model need a bearer token "
        "(`shipyard tokens create`); 'none': open."
    ),
]
_Multi = Annotated[
    bool,
    typer.Option(
        "--multi",
        help="Serve every model version under /models/{ref}/invocations (and "
        "/v2/models/{ref}/infer), each loaded on first use.",
    ),
]


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("batch")(batch)


def serve(
    ctx: typer.Context,
    ref: Annotated[
        str | None,
        typer.Argument(help="NAME@ALIAS, NAME:VERSION or NAME (or --endpoint or --multi)."),
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
    capture: _Capture = None,
    auth: _Auth = "none",
    multi: _Multi = False,
    max_models: Annotated[
        int | None, typer.Option(help="With --multi: most versions loaded at once.")
    ] = None,
    memory_cap: Annotated[
        str | None,
        typer.Option(
            help="With --multi: most memory of loaded models, e.g. 2GB (default: half of "
            "this machine's); the least recently used are unloaded past it."
        ),
    ] = None,
) -> None:
    """Serve a model over HTTP: /ping, /invocations (SageMaker, MLflow), /v1/predict,
    /v2/models/... (Open Inference Protocol), /openapi.json, /metrics (Prometheus). With
    --endpoint, an endpoint's variants; with --multi, every model version of the project."""
    from shipyard.serve import check_auth_mode, serve_model, serve_models

    check_auth_mode(auth)  # before the model loads, so a typo fails at once
    _check_serve_target(ref, endpoint, env, multi, max_models, memory_cap)
    project = project_of(ctx)
    if endpoint is not None:
        _serve_endpoint(project, endpoint, env, host, port, capture, auth)
        return
    if ref is None:
        serve_models(
            project,
            host=host,
            port=port,
            max_models=max_models,
            memory_cap=memory_cap,
            on_ready=lambda url: _ready("every model version", url, capture),
            capture=capture,
            auth=auth,
        )
        return
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


def _check_serve_target(
    ref: str | None,
    endpoint: str | None,
    env: str | None,
    multi: bool,
    max_models: int | None,
    memory_cap: str | None,
) -> None:
    if sum((ref is not None, endpoint is not None, multi)) != 1:
        raise InvalidInput(
            "Give one thing to serve: a model (shipyard serve fraud@prod), an endpoint "
            "(shipyard serve --endpoint NAME [--env ENV]) or --multi for every model version."
        )
    if env is not None and endpoint is None:
        raise InvalidInput("--env goes with --endpoint only.")
    if not multi and (max_models is not None or memory_cap is not None):
        raise InvalidInput("--max-models and --memory-cap go with --multi only.")


def _ready(what: str, url: str, capture: float | None) -> None:
    note = f", capturing {capture:g}% of requests" if capture else ""
    console.print(f"Serving {what} on {url}{note} (Ctrl-C to stop)")


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
