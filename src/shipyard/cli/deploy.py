"""CLI: serve, batch, recommend."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from shipyard.cli._context import project_of
from shipyard.cli._output import JsonFlag, console, emit_json, human_bytes, table
from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    from shipyard.deploy import Recommendation
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
    app.command("recommend")(recommend)


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
    if env is not None and endpoint is None:
        raise InvalidInput("--env goes with --endpoint only.")
    if sum((ref is not None, endpoint is not None, multi)) != 1:
        raise InvalidInput(
            "Give one thing to serve: a model (shipyard serve fraud@prod), an endpoint "
            "(shipyard serve --endpoint NAME [--env ENV]) or --multi for every model version."
        )
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
    backend: Annotated[
        str, typer.Option(help="local (this process) or ray (Ray Data map_batches).")
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option(
            help="Ray cluster for --backend ray (default: SHIPYARD_RAY_ADDRESS; unset starts "
            "Ray on this machine)."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Score a dataset with a model into a new dataset version (streams in batches, here or
    on Ray)."""
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
            backend=backend,
            ray_address=ray_address,
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


def recommend(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="The model: NAME@ALIAS, NAME:VERSION or NAME.")],
    p99: Annotated[
        str | None, typer.Option("--p99", help="Target single-row p99 latency: 10ms, 0.5s.")
    ] = None,
    rps: Annotated[
        str | None, typer.Option("--rps", help="Target requests per second: 500, 1.5k.")
    ] = None,
    batch_rows: Annotated[
        list[int] | None,
        typer.Option(
            "--batch-rows",
            help="A batch size to measure (repeatable; default 1, 16, 256, 4096, 65536).",
        ),
    ] = None,
    batch_memory: Annotated[
        str | None,
        typer.Option(help="Most memory a batch-transform process may use: 2GB (default)."),
    ] = None,
    max_workers: Annotated[
        int | None, typer.Option(help="Most worker processes to try (default: all cores).")
    ] = None,
    seconds: Annotated[
        float, typer.Option(help="Seconds each worker count is loaded with requests.")
    ] = 2.0,
    as_json: JsonFlag = False,
) -> None:
    """Measure a model on this machine (latency, throughput per core and per worker count,
    memory, batch sizes) and size a deployment for --p99 and --rps; stored with the version."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from shipyard.deploy import recommend as run_recommend

    project = project_of(ctx)
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("Loading the model", total=None)

        def progress(what: str, done: int, total: int) -> None:
            bar.update(task, description=what, completed=done, total=total)

        result = run_recommend(
            project,
            ref,
            p99=p99,
            rps=rps,
            batch_rows=batch_rows,
            batch_memory=batch_memory,
            max_workers=max_workers,
            seconds=seconds,
            progress=progress,
        )
    if as_json:
        emit_json(result.payload)
        return
    _print_recommendation(result)


def _print_recommendation(result: Recommendation) -> None:
    p = result.payload
    machine = p["machine"]
    console.print(
        f"[bold]{p['model']}[/] measured on {machine['cores']} core(s) of {machine['cpu']}, "
        f"{human_bytes(machine['memory_bytes'])}; rows: {p['rows']['source']}"
    )
    lat = p["latency"]
    console.print(
        table(
            "Single-row latency (ms)",
            ["path", "p50", "p90", "p99", "mean"],
            [
                (name, *(f"{lat[key][s]:.3f}" for s in ("p50_ms", "p90_ms", "p99_ms", "mean_ms")))
                for name, key in (("model", "model"), ("server app", "app"))
            ],
        )
    )
    console.print(
        table(
            "Throughput by worker processes",
            ["workers", "req/s", "per worker"],
            [
                (s["workers"], f"{s['rps']:,.0f}", f"{s['per_worker_rps']:,.0f}")
                for s in p["scaling"]
            ],
        )
    )
    console.print(
        table(
            "Batches (one core)",
            ["rows", "ms per batch", "rows/s", "peak RSS"],
            [
                (
                    f"{b['rows']:,}",
                    f"{b['seconds'] * 1e3:.3g}",
                    f"{b['rows_per_second']:,.0f}",
                    human_bytes(b["peak_rss"]) if b["peak_rss"] else None,
                )
                for b in p["batches"]
            ],
        )
    )
    console.print(table("Plan", ["", "value"], _plan_rows(p["plan"])))
    for line in p["reasons"]:
        console.print(f"  - {line}", soft_wrap=False)
    console.print(f"Stored with {p['model']}: {result.uri}")


def _plan_rows(plan: dict[str, Any]) -> list[tuple[str, Any]]:
    batch = plan.get("batch_rows")
    return [
        ("replicas", plan["replicas"]),
        ("workers per replica", plan["workers_per_replica"]),
        ("cores per replica", plan["cores_per_replica"]),
        ("cores in all", plan["cores"]),
        ("memory per replica", human_bytes(plan["memory_per_replica_bytes"])),
        ("req/s per replica", f"{plan['replica_rps']:,.0f} at {plan['busy']:.0%} busy"),
        ("meets p99", {True: "yes", False: "NO", None: "no target"}[plan["meets_p99"]]),
        ("batch transform rows", f"{batch:,}" if batch else "none fits the budget"),
    ]


def print_recommendation_summary(result: Recommendation | None) -> None:
    """The stored plan of a model version in a few lines (``models show``)."""
    if result is None:
        console.print("recommendation  none yet (shipyard recommend MODEL --p99 10ms --rps 500)")
        return
    p, plan = result.payload, result.plan
    app = p["latency"]["app"]
    rps = p["targets"]["rps"]
    console.print(
        f"recommendation  measured {p['created_at'][:16]} on {p['machine']['cores']} core(s): "
        f"p99 {app['p99_ms']:.3g} ms, {plan['worker_rps']:,.0f} req/s per worker"
    )
    console.print(
        f"  plan{f' for {rps:,.0f} req/s' if rps else ''}: {plan['replicas']} replica(s) × "
        f"{plan['workers_per_replica']} worker(s), {human_bytes(plan['memory_per_replica_bytes'])}"
        f" each; batch transform {plan.get('batch_rows') or '-'} rows per batch"
    )
