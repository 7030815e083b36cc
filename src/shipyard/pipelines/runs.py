"""The pipelines room's public functions: validate, run, resume and look at pipelines."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shipyard.compute import check_backend
from shipyard.entities import PipelineDefinition, PipelineRun, PipelineStep, Schedule
from shipyard.errors import Conflict
from shipyard.pipelines._capture import capturing
from shipyard.pipelines._load import load_spec
from shipyard.pipelines._python import PipelineFunction
from shipyard.pipelines._runner import Executor, LocalExecutor, OnEvent, execute
from shipyard.pipelines._spec import PipelineSpec
from shipyard.pipelines._validate import Plan, bind_params, plan
from shipyard.project import Project
from shipyard.tracking import dead_reason

__all__ = [
    "PipelineSummary",
    "RunResult",
    "Started",
    "carry_out",
    "fail_dead_pipeline_runs",
    "list_pipelines",
    "load_pipeline",
    "pipeline_runs",
    "prepare_resume",
    "prepare_run",
    "resume_pipeline",
    "run_pipeline",
    "show_pipeline_run",
]

Target = str | PipelineSpec | PipelineFunction
WORKERS = 4
"""Steps run at once on the local backend, by default."""


@dataclass(frozen=True)
class RunResult:
    """A pipeline run and its steps, in the pipeline's order."""

    run: PipelineRun
    steps: list[PipelineStep]

    @property
    def ok(self) -> bool:
        return self.run.status == "finished"

    def step(self, name: str) -> PipelineStep:
        return next(s for s in self.steps if s.step == name)

    def outputs(self, name: str) -> dict[str, Any]:
        """The outputs of step ``name`` (reused ones too)."""
        return dict(self.step(name).outputs)


@dataclass(frozen=True)
class PipelineSummary:
    """A registered pipeline with its latest run and its schedule."""

    pipeline: PipelineDefinition
    last_run: PipelineRun | None
    schedule: Schedule | None


def load_pipeline(project: Project, target: Target) -> Plan:
    """Read and check a pipeline (a file, a name, a spec or a ``@pipeline`` function).

    Raises:
        NotFound: No such file or pipeline.
        InvalidInput: It is not valid: every problem is listed (unknown kinds or steps,
            type mismatches, cycles, bad parameters); nothing was written.
    """
    if isinstance(target, PipelineFunction):
        target = target.spec()
    spec = target if isinstance(target, PipelineSpec) else load_spec(project, target)
    return plan(spec)


def run_pipeline(
    project: Project,
    target: Target,
    params: Mapping[str, Any] | None = None,
    *,
    params_as_text: bool = False,
    no_cache: bool = False,
    backend: str = "local",
    ray_address: str | None = None,
    workers: int = WORKERS,
    trigger: str = "manual",
    on_event: OnEvent | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> RunResult:
    """Validate a pipeline, register its definition, and run it.

    Args:
        params: Values of its parameters (text to parse by type when ``params_as_text``).
        no_cache: Run every step, reusing no recorded outputs.
        backend: ``local`` (threads) or ``ray`` (Ray tasks; ``ray_address`` as for training).
        trigger: What started it, for the record (``manual``, ``schedule``, ``monitor:NAME``).
        on_event: Told each time a step changes status (live progress).
        sleep: Waits between a step's attempts (tests inject one).

    A failed run is returned, not raised: see ``result.ok`` and ``result.run.error``.

    Raises:
        NotFound: No such pipeline.
        InvalidInput: An invalid pipeline, an unknown parameter, a value of the wrong type,
            a missing required parameter, or an unknown backend; nothing was written.
        BackendUnavailable: Ray was asked for and is missing or unreachable.
    """
    check_backend(backend)
    started = prepare_run(project, target, params, params_as_text=params_as_text, trigger=trigger)
    return carry_out(
        project, started, no_cache=no_cache, backend=backend, ray_address=ray_address,
        workers=workers, on_event=on_event, sleep=sleep,
    )  # fmt: skip


def resume_pipeline(
    project: Project,
    run_id: str,
    *,
    backend: str = "local",
    ray_address: str | None = None,
    workers: int = WORKERS,
    on_event: OnEvent | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> RunResult:
    """Run a failed run again from where it failed, as a new run: the steps that finished
    (or were reused) keep their outputs; the others run, with the pipeline as its file says
    now (so a fixed step runs fixed) and the parameters of the failed run.

    Raises:
        NotFound: No such run, or its pipeline cannot be found any more.
        Conflict: The run is still running, or it finished (nothing to resume).
        InvalidInput: The pipeline is not valid now.
    """
    check_backend(backend)
    started = prepare_resume(project, run_id)
    return carry_out(
        project, started, backend=backend, ray_address=ray_address, workers=workers,
        on_event=on_event, sleep=sleep,
    )  # fmt: skip


@dataclass(frozen=True)
class Started:
    """A run recorded as running, its steps pending, ready for :func:`carry_out`: its
    checked pipeline and the steps it reuses from the run it resumes."""

    run: PipelineRun
    plan: Plan
    reuse: dict[str, PipelineStep]


def prepare_run(
    project: Project,
    target: Target,
    params: Mapping[str, Any] | None = None,
    *,
    params_as_text: bool = False,
    trigger: str = "manual",
) -> Started:
    """Validate a pipeline and its parameters, register its definition, and record a new
    run (see :func:`run_pipeline` for what it raises); nothing runs yet."""
    checked = load_pipeline(project, target)
    values = bind_params(checked.spec, params or {}, as_text=params_as_text)
    definition = project.catalog.register_pipeline(
        checked.name, definition=checked.spec.to_json(), source=checked.spec.source,
        actor=project.actor,
    )  # fmt: skip
    run = _begin(project, checked, definition.version, values, trigger, None)
    return Started(run, checked, {})


def prepare_resume(project: Project, run_id: str) -> Started:
    """Check that failed run ``run_id`` can resume and record the run that resumes it (see
    :func:`resume_pipeline` for what it raises); nothing runs yet."""
    fail_dead_pipeline_runs(project)
    failed = project.catalog.get_pipeline_run(run_id)
    if failed.status != "failed":
        what = "is still running" if failed.status == "running" else "finished: nothing to resume"
        raise Conflict(
            f"Pipeline run {failed.id[:12]} of {failed.pipeline} {what}. Resume takes a failed "
            "run (see `shipyard pipelines runs`).",
            details={"run": failed.id, "status": failed.status},
        )
    checked = load_pipeline(project, failed.pipeline)
    values = bind_params(checked.spec, failed.params)
    done = {
        s.step: s
        for s in project.catalog.list_pipeline_steps(failed.id)
        if s.status in ("finished", "cached") and s.step in checked.steps
    }
    definition = project.catalog.register_pipeline(
        checked.name, definition=checked.spec.to_json(), source=checked.spec.source,
        actor=project.actor,
    )  # fmt: skip
    run = _begin(project, checked, definition.version, values, "resume", failed.id)
    return Started(run, checked, done)


def _begin(
    project: Project,
    checked: Plan,
    version: int,
    values: dict[str, Any],
    trigger: str,
    resumed_from: str | None,
) -> PipelineRun:
    project.catalog, project.lake, project.artifacts  # noqa: B018 - opened before the threads
    run = project.catalog.create_pipeline_run(
        checked.name, version=version, params=values, steps=list(checked.steps),
        trigger=trigger, resumed_from=resumed_from, actor=project.actor,
    )  # fmt: skip
    if trigger == "schedule":  # the scheduler's check that its last run has ended reads this
        project.catalog.record_schedule_run(checked.name, run.id, run.started_at)
    return run


def carry_out(
    project: Project,
    started: Started,
    *,
    no_cache: bool = False,
    backend: str = "local",
    ray_address: str | None = None,
    workers: int = WORKERS,
    on_event: OnEvent | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> RunResult:
    """Run the steps of a run :func:`prepare_run` or :func:`prepare_resume` recorded, to
    its end; a failed run is returned, not raised."""
    executor: Executor
    if backend == "ray":
        from shipyard.pipelines._ray import RayExecutor

        executor = RayExecutor(project, ray_address)
    else:
        executor = LocalExecutor(project, workers, sleep)
    try:
        with capturing():
            ended = execute(project, started.plan, started.run, executor, reuse=started.reuse,
                            no_cache=no_cache, on_event=on_event)  # fmt: skip
    except BaseException:  # interrupted: the run is marked failed; do not wait for its steps
        executor.close(wait=False)
        raise
    executor.close()
    return RunResult(ended, project.catalog.list_pipeline_steps(ended.id))


def fail_dead_pipeline_runs(project: Project, *, now: datetime | None = None) -> list[PipelineRun]:
    """Mark failed every running pipeline run whose process died (killed, out of memory);
    its running step fails and its pending ones are cancelled. Returns them as failed."""
    now = now or datetime.now(UTC)
    failed = []
    for run in project.catalog.list_pipeline_runs(status="running", limit=1000):
        reason = dead_reason(run.host, run.pid, run.started_at, run.heartbeat_at, now=now)
        if reason:
            try:
                failed.append(
                    project.catalog.finish_pipeline_run(
                        run.id, status="failed", error=reason, actor=project.actor
                    )
                )
            except Conflict:  # its process, or another repair, ended it just now
                continue
    return failed


def list_pipelines(project: Project) -> list[PipelineSummary]:
    """Every registered pipeline with its latest run and its schedule."""
    fail_dead_pipeline_runs(project)
    schedules = {s.pipeline: s for s in project.catalog.list_schedules()}
    out = []
    for definition in project.catalog.list_pipelines():
        runs = project.catalog.list_pipeline_runs(definition.name, limit=1)
        out.append(
            PipelineSummary(definition, runs[0] if runs else None, schedules.get(definition.name))
        )
    return out


def pipeline_runs(project: Project, name: str, *, limit: int = 50) -> list[PipelineRun]:
    """The runs of pipeline ``name``, newest first.

    Raises:
        NotFound: No pipeline has that name (a close one is suggested).
    """
    fail_dead_pipeline_runs(project)
    project.catalog.get_pipeline(name)
    return project.catalog.list_pipeline_runs(name, limit=limit)


def show_pipeline_run(project: Project, run_id: str) -> RunResult:
    """A run (an id or a unique prefix of 6+ characters) and its steps.

    Raises:
        NotFound: No run has that id.
    """
    fail_dead_pipeline_runs(project)
    run = project.catalog.get_pipeline_run(run_id)
    return RunResult(run, project.catalog.list_pipeline_steps(run.id))
