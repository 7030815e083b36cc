"""CLI: pipelines (run, resume, validate, list, runs, show, graph, schedule, schedules) and
the scheduler."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.live import Live
from rich.table import Table
from rich.text import Text

from shipyard.cli._context import project_of
from shipyard.cli._output import JsonFlag, console, emit_json, err_console, table
from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    from shipyard.entities import PipelineStep
    from shipyard.pipelines import RunResult, StepEvent

pipelines_app = typer.Typer(
    help="Run the lifecycle as a cached, resumable DAG of steps, on a schedule.",
    no_args_is_help=True,
)

Params = Annotated[
    list[str] | None, typer.Option("--param", "-p", help="A parameter: KEY=VALUE (repeatable).")
]
Backend = Annotated[str, typer.Option(help="Steps run in threads here (local) or as Ray tasks.")]
RayAddress = Annotated[str | None, typer.Option(help="Ray cluster for --backend ray.")]
Workers = Annotated[int, typer.Option(help="Steps run at once on the local backend.")]
_STYLE = {"finished": "green", "cached": "cyan", "failed": "red", "running": "yellow",
          "skipped": "dim", "cancelled": "dim", "pending": "dim"}  # fmt: skip


def register(app: typer.Typer) -> None:
    app.add_typer(pipelines_app, name="pipelines")
    app.command("scheduler")(scheduler)


def _params(items: list[str] | None) -> dict[str, str]:
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"-p takes KEY=VALUE, like -p margin=0.01. Got {item!r} instead.")
        out[key.strip()] = value
    return out


class _Progress:
    """The live table of steps while a run goes (on stderr, so --json stays clean)."""

    def __init__(self, steps: list[str]) -> None:
        self.rows: dict[str, list[str]] = {s: ["pending", "", ""] for s in steps}
        self.live = Live(self.render(), console=err_console, refresh_per_second=4,
                         redirect_stdout=False, redirect_stderr=False)  # fmt: skip

    def render(self) -> Table:
        out = Table(show_header=True, header_style="bold", box=None)
        for column in ("step", "status", "seconds", "note"):
            out.add_column(column, overflow="fold")
        for name, (status, seconds, note) in self.rows.items():
            out.add_row(name, Text(status, style=_STYLE.get(status, "")), seconds, note)
        return out

    def __call__(self, event: StepEvent) -> None:
        note = ""
        if event.cached_from:
            note = f"reused from run {event.cached_from[:8]}"
        elif event.error:
            note = event.error.splitlines()[0][:70]
        elif event.attempts > 1:
            note = f"{event.attempts} attempts"
        seconds = "" if event.seconds is None else f"{event.seconds:.1f}"
        self.rows[event.step] = [event.status, seconds, note]
        self.live.update(self.render())


def _run_with_progress(steps: list[str], as_json: bool, go: Any) -> RunResult:
    if as_json or not err_console.is_terminal:
        result: RunResult = go(None)
        return result
    progress = _Progress(steps)
    with progress.live:
        result = go(progress)
    return result


@pipelines_app.command("run")
def run(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="A pipeline file (.yaml, .py) or a name.")],
    param: Params = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Run every step again.")] = False,
    backend: Backend = "local",
    ray_address: RayAddress = None,
    workers: Workers = 4,
    trigger: Annotated[str, typer.Option(hidden=True)] = "manual",
    as_json: JsonFlag = False,
) -> None:
    """Validate a pipeline, then run it: independent steps at once, unchanged steps reused.
    Exit 1 when the run fails."""
    from shipyard.pipelines import load_pipeline, run_pipeline

    project = project_of(ctx)
    steps = list(load_pipeline(project, target).steps)
    result = _run_with_progress(
        steps, as_json,
        lambda on_event: run_pipeline(
            project, target, _params(param), params_as_text=True, no_cache=no_cache,
            backend=backend, ray_address=ray_address, workers=workers, trigger=trigger,
            on_event=on_event,
        ),
    )  # fmt: skip
    _finish(result, as_json)


@pipelines_app.command("resume")
def resume(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="A failed run's id (or 6+ characters of it).")],
    backend: Backend = "local",
    ray_address: RayAddress = None,
    workers: Workers = 4,
    as_json: JsonFlag = False,
) -> None:
    """Run a failed run again from its failed step, reusing what succeeded."""
    from shipyard.pipelines import resume_pipeline, show_pipeline_run

    project = project_of(ctx)
    steps = [s.step for s in show_pipeline_run(project, run_id).steps]
    result = _run_with_progress(
        steps, as_json,
        lambda on_event: resume_pipeline(project, run_id, backend=backend,
                                         ray_address=ray_address, workers=workers,
                                         on_event=on_event),
    )  # fmt: skip
    _finish(result, as_json)


def _finish(result: RunResult, as_json: bool) -> None:
    if as_json:
        emit_json({"run": result.run, "steps": result.steps})
    else:
        _print_run(result)
    if not result.ok:
        raise typer.Exit(1)


def _print_run(result: RunResult) -> None:
    run = result.run
    rows = [_step_row(s) for s in result.steps]
    console.print(table(None, ["step", "status", "seconds", "outputs / note"], rows))
    cached = sum(s.status == "cached" for s in result.steps)
    seconds = (run.ended_at - run.started_at).total_seconds() if run.ended_at else 0.0
    colour = "green" if run.status == "finished" else "red"
    console.print(
        f"Run [bold]{run.id[:12]}[/] of {run.pipeline}:{run.version} [{colour}]{run.status}[/] "
        f"in {seconds:.1f} s; {cached} of {len(result.steps)} steps reused from the cache."
    )
    if run.error:
        console.print(f"[red]{run.error}[/]", soft_wrap=True)
        console.print(f"Fix it, then: shipyard pipelines resume {run.id[:12]}")


def _step_row(s: PipelineStep) -> tuple[str, str, str, str]:
    if s.status == "cached":
        note = f"reused from run {(s.cached_from or '')[:8]}"
    elif s.error:
        note = s.error.splitlines()[0]
    else:
        note = ", ".join(f"{k}={_short(v)}" for k, v in s.outputs.items())
    seconds = "" if s.seconds is None else f"{s.seconds:.1f}"
    return (s.step, s.status, seconds, note)


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(list(value)[:4]) + ("..." if len(value) > 4 else "") + "}"
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


@pipelines_app.command("validate")
def validate(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="A pipeline file or name.")],
    as_json: JsonFlag = False,
) -> None:
    """Check a pipeline without running it: kinds, references, types, cycles."""
    from shipyard.pipelines import load_pipeline

    checked = load_pipeline(project_of(ctx), target)
    if as_json:
        emit_json({"pipeline": checked.name, "valid": True, "layers": checked.layers})
        return
    console.print(f"Pipeline {checked.name} is valid: {len(checked.steps)} steps.")


@pipelines_app.command("graph")
def graph(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="A pipeline file or name.")],
    as_json: JsonFlag = False,
) -> None:
    """Draw a pipeline's DAG: each layer's steps run at once."""
    from shipyard.pipelines import draw_graph, load_pipeline

    checked = load_pipeline(project_of(ctx), target)
    if as_json:
        emit_json({
            "pipeline": checked.name,
            "layers": checked.layers,
            "steps": {n: {"kind": s.spec.kind or s.kind.name, "after": s.deps,
                          "when": s.spec.when, "cache": s.cache} for n, s in checked.steps.items()},
        })  # fmt: skip
        return
    for line in draw_graph(checked):
        console.print(Text(line))


@pipelines_app.command("list")
def list_command(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Registered pipelines with their latest run and schedule."""
    from shipyard.pipelines import list_pipelines

    found = list_pipelines(project_of(ctx))
    if as_json:
        emit_json(found)
        return
    rows = [
        (
            s.pipeline.name,
            s.pipeline.version,
            len(s.pipeline.definition.get("steps", [])),
            f"{s.last_run.started_at:%Y-%m-%d %H:%M}" if s.last_run else "",
            s.last_run.status if s.last_run else "",
            s.schedule.cron if s.schedule else "",
        )
        for s in found
    ]
    console.print(
        table("Pipelines", ["pipeline", "version", "steps", "last run", "status", "schedule"], rows)
    )


@pipelines_app.command("runs")
def runs(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The pipeline.")],
    as_json: JsonFlag = False,
) -> None:
    """The runs of a pipeline, newest first."""
    from shipyard.pipelines import pipeline_runs

    found = pipeline_runs(project_of(ctx), name)
    if as_json:
        emit_json(found)
        return
    rows = [
        (
            r.id[:12],
            f"{r.started_at:%Y-%m-%d %H:%M:%S}",
            r.status,
            f"{(r.ended_at - r.started_at).total_seconds():.1f}" if r.ended_at else "",
            r.trigger + (f" {r.resumed_from[:8]}" if r.resumed_from else ""),
            (r.error or "").splitlines()[0][:60] if r.error else "",
        )
        for r in found
    ]
    console.print(
        table(f"Runs of {name}", ["run", "started", "status", "seconds", "trigger", "error"], rows)
    )


@pipelines_app.command("show")
def show(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="A run's id (or 6+ characters of it).")],
    logs: Annotated[str | None, typer.Option(help="Also print this step's log.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """A run's steps: status, timing, cached or not, outputs."""
    from shipyard.pipelines import show_pipeline_run

    result = show_pipeline_run(project_of(ctx), run_id)
    if as_json:
        emit_json({"run": result.run, "steps": result.steps})
        return
    run = result.run
    console.print(
        f"Run [bold]{run.id}[/] of {run.pipeline}:{run.version}: {run.status} "
        f"(trigger {run.trigger}; started {run.started_at:%Y-%m-%d %H:%M:%S} UTC)"
    )
    if run.params:
        console.print(
            Text("params " + ", ".join(f"{k}={_short(v)}" for k, v in run.params.items()))
        )
    _print_run(result)
    if logs is not None:
        step = next((s for s in result.steps if s.step == logs), None)
        if step is None:
            raise InvalidInput(f"Run {run.id[:12]} has no step {logs!r}.")
        console.print(Text(step.logs or "(no output)"))


@pipelines_app.command("schedule")
def schedule(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The pipeline (a name).")],
    cron: Annotated[str | None, typer.Option(help="Cron expression in UTC: '0 2 * * *'.")] = None,
    param: Params = None,
    missed: Annotated[str, typer.Option(help="Missed slots: once (one catch-up run) or skip.")] = (
        "once"
    ),
    remove: Annotated[bool, typer.Option("--remove", help="Remove its schedule.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Run a pipeline on a cron schedule (`shipyard scheduler` starts the runs)."""
    from shipyard.pipelines import remove_schedule, schedule_pipeline

    project = project_of(ctx)
    if remove:
        gone = remove_schedule(project, name)
        console.print(f"Removed the schedule of {gone.pipeline} ({gone.cron}).")
        return
    if not cron:
        raise InvalidInput("Give the schedule with --cron '0 2 * * *' (or --remove).")
    stored = schedule_pipeline(
        project, name, cron, params=_params(param), params_as_text=True, missed=missed
    )
    if as_json:
        emit_json(stored)
        return
    console.print(
        f"Scheduled {stored.pipeline}: {stored.cron} (UTC), next "
        f"{stored.next_run_at:%Y-%m-%d %H:%M} UTC; missed slots: {stored.missed}. "
        "`shipyard scheduler` starts the runs."
    )


@pipelines_app.command("schedules")
def schedules(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Every schedule with its next and last run."""
    from shipyard.pipelines import list_schedules

    found = list_schedules(project_of(ctx))
    if as_json:
        emit_json(found)
        return
    rows = [
        (
            s.pipeline,
            s.cron,
            f"{s.next_run_at:%Y-%m-%d %H:%M}",
            f"{s.last_run_at:%Y-%m-%d %H:%M}" if s.last_run_at else "",
            (s.last_run_id or "")[:12],
            s.missed,
        )
        for s in found
    ]
    columns = ["pipeline", "cron", "next", "last", "run", "missed"]
    console.print(table("Schedules (UTC)", columns, rows))


def scheduler(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Start what is due, then exit.")] = False,
    poll: Annotated[float, typer.Option(help="Longest sleep between looks, in seconds.")] = 30.0,
) -> None:
    """Start scheduled pipeline runs as they come due (runs until Ctrl-C)."""
    import threading

    from shipyard.pipelines import Scheduler

    project = project_of(ctx)
    found = Scheduler(project, poll=poll)
    say = say_fired
    if once:
        for fired in found.tick():
            say(fired)
        return
    console.print(f"Scheduler on {project.root}: {len(project.catalog.list_schedules())} "
                  "schedule(s). Ctrl-C stops it; runs it started go on.")  # fmt: skip
    stop = threading.Event()
    try:
        found.run_forever(stop, on_fired=say)
    except KeyboardInterrupt:
        stop.set()
        console.print("Scheduler stopped.")


def say_fired(fired: Any) -> None:
    """One line for a schedule the scheduler looked at: started, or why not."""
    verdict = "started" if fired.started else "not started"
    console.print(f"{fired.due:%Y-%m-%d %H:%M} {fired.pipeline}: {verdict} ({fired.reason})")
