"""CLI: runs (list, show, compare)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from shipyard.cli._context import either, project_of, remote_of
from shipyard.cli._output import JsonFlag, cell, console, emit_json, fmt_metric, table

if TYPE_CHECKING:
    from shipyard.entities import Run

runs_app = typer.Typer(help="Inspect training runs (experiments and trials).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(runs_app, name="runs")


def _duration(run: Run) -> str:
    if run.ended_at is None:
        return ""
    return f"{(run.ended_at - run.started_at).total_seconds():.1f}s"


@runs_app.command("list")
def runs_list(
    ctx: typer.Context,
    experiment: Annotated[str | None, typer.Option(help="Only this experiment.")] = None,
    status: Annotated[
        str | None, typer.Option(help="Only runs with this status: running, finished, failed.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List runs, newest first."""
    from shipyard.tracking import list_runs

    runs = either(
        ctx,
        lambda c: c.list_runs(experiment, status=status),
        lambda p: list_runs(p, experiment, status=status),
    )
    if as_json:
        emit_json(runs)
        return
    rows = [
        (
            r.id[:12],
            r.experiment,
            r.name,
            r.status,
            _duration(r),
            fmt_metric(r.metrics.get("test.roc_auc", r.metrics.get("test.rmse", ""))),
            r.outputs.get("model", ""),
        )
        for r in runs
    ]
    console.print(
        table("Runs", ["run", "experiment", "name", "status", "took", "test", "model"], rows)
    )


@runs_app.command("show")
def runs_show(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="A run id (or a unique prefix of 6+ chars).")],
    as_json: JsonFlag = False,
) -> None:
    """Show a run: parameters, metrics, inputs, outputs, error, learning curves."""
    from shipyard.tracking import get_run

    detail = either(ctx, lambda c: c.get_run(run_id), lambda p: get_run(p, run_id))
    run, curves = detail.run, detail.curves
    if as_json:
        emit_json({"run": run, "curves": curves})
        return
    console.print(f"[bold]{run.id}[/] {run.experiment}/{run.name}  {run.status} {_duration(run)}")
    if run.error:
        console.print(f"[red]error:[/] {run.error}")
    console.print(f"inputs  {run.inputs}\noutputs {run.outputs}")
    flat_params = {k: v for k, v in run.params.items() if not isinstance(v, dict)}
    console.print(table("Parameters", ["name", "value"], sorted(flat_params.items())))
    console.print(
        table(
            "Metrics",
            ["name", "value"],
            [(k, fmt_metric(v, k)) for k, v in sorted(run.metrics.items())],
        )
    )
    for key, points in curves.items():
        if points:
            last = points[-1]
            best = min(points, key=lambda p: p[1])
            console.print(
                f"{key}: {len(points)} steps, last {last[1]:.4f}, "
                f"best {best[1]:.4f} at step {best[0]}"
            )


@runs_app.command("compare")
def runs_compare(
    ctx: typer.Context,
    run_ids: Annotated[list[str], typer.Argument(help="Two or more run ids.")],
    as_json: JsonFlag = False,
) -> None:
    """Compare runs side by side: parameters and metrics that differ are highlighted."""
    from shipyard.tracking import compare_runs, split_of

    client = remote_of(ctx)
    if client is not None:
        runs, splits = client.compare_runs(run_ids), client.split_of
    else:
        project = project_of(ctx)
        runs = compare_runs(project, run_ids)

        def splits(run: Run) -> dict[str, Any] | None:
            return split_of(project, run)

    if as_json:
        emit_json(runs)
        return
    keys = sorted({k for r in runs for k in r.metrics})
    params = sorted({k for r in runs for k, v in r.params.items() if not isinstance(v, dict)})
    rows: list[tuple[str, ...]] = []
    compared: tuple[tuple[str, list[str]], ...] = (
        ("dataset", [cell(r.inputs.get("dataset")) for r in runs]),
        ("target", [cell(r.inputs.get("target")) for r in runs]),
        ("split", [cell(_split(splits(r))) for r in runs]),
        *((f"param:{k}", [cell(r.params.get(k)) for r in runs]) for k in params),
        *((f"metric:{k}", [fmt_metric(r.metrics.get(k), k) for r in runs]) for k in keys),
    )
    for name, values in compared:
        mark = "*" if len({str(v) for v in values}) > 1 else ""
        rows.append((f"{mark}{name}", *values))
    console.print(table("Compare (* differs)", ["", *(r.id[:12] for r in runs)], rows))


def _split(split: dict[str, Any] | None) -> str | None:
    """A split as "stratified (train/valid/test 140/30/30)"."""
    if split is None:
        return None
    rows = split.get("rows") or {}
    sizes = "/".join(f"{rows.get(part, 0):,}" for part in ("train", "valid", "test"))
    return f"{split.get('strategy')} (train/valid/test {sizes})"
