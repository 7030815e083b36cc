"""Running a checked pipeline: each step starts once the steps it reads from are done, and
independent steps run at once on the executor (threads here, or Ray tasks). Before a step
runs, its cache key is looked up: a step whose inputs, configuration and code are unchanged
reuses its recorded outputs. A condition that is false skips the steps it guards and what
reads from them; a failed step (after its retries) stops the run: steps running finish,
steps not started are cancelled. Every change is in the catalog as it happens, and a
heartbeat tells a live run from one whose process died."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from shipyard.entities import PipelineRun, PipelineStep
from shipyard.errors import ShipyardError
from shipyard.pipelines._cache import cache_key, resolve_datasets
from shipyard.pipelines._execute import Outcome, StepTask, run_task
from shipyard.pipelines._spec import PARAM_IN_TEXT, parse_reference
from shipyard.pipelines._validate import Plan, StepPlan
from shipyard.project import Project
from shipyard.tracking import Heartbeat

__all__ = ["Executor", "LocalExecutor", "StepEvent", "execute"]


@dataclass(frozen=True)
class StepEvent:
    """A step changed status: what the live progress shows."""

    step: str
    status: str
    seconds: float | None = None
    attempts: int = 0
    error: str | None = None
    cached_from: str | None = None


OnEvent = Callable[[StepEvent], None]


class Executor(Protocol):
    """Where steps run."""

    def submit(self, task: StepTask) -> Future[Outcome]: ...

    def close(self, wait: bool = True) -> None: ...


class LocalExecutor:
    """Steps in a pool of threads of this process."""

    def __init__(
        self, project: Project, workers: int, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.project, self.sleep = project, sleep
        self.pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="step")

    def submit(self, task: StepTask) -> Future[Outcome]:
        return self.pool.submit(run_task, task, self.project, sleep=self.sleep)

    def close(self, wait: bool = True) -> None:
        """Stop taking steps; with ``wait``, until the running ones have ended."""
        self.pool.shutdown(wait=wait, cancel_futures=True)


class _Run:
    """The state of one run while it goes."""

    def __init__(
        self,
        project: Project,
        plan: Plan,
        run: PipelineRun,
        executor: Executor,
        *,
        reuse: Mapping[str, PipelineStep],
        no_cache: bool,
        on_event: OnEvent,
    ) -> None:
        self.project, self.plan, self.run, self.executor = project, plan, run, executor
        self.reuse, self.no_cache, self.on_event = reuse, no_cache, on_event
        self.params: dict[str, Any] = dict(run.params)
        self.final: dict[str, str] = {}
        self.values: dict[str, dict[str, Any]] = {}
        self.running: dict[Future[Outcome], str] = {}
        self.failure: str | None = None

    # --- the loop -------------------------------------------------------------------------
    def go(self) -> None:
        while True:
            if self.failure is None:
                for name, sp in self.plan.steps.items():
                    busy = name in self.final or name in self.running.values()
                    if not busy and all(d in self.final for d in sp.deps):
                        self.start(name, sp)
                        if self.failure is not None:
                            break
            if not self.running:
                if self.failure is not None or len(self.final) == len(self.plan.steps):
                    return
                continue
            done, _ = wait(list(self.running), return_when=FIRST_COMPLETED)
            for future in done:
                self.record(self.running.pop(future), future.result())

    def start(self, name: str, sp: StepPlan) -> None:
        skipped = [d for d in sp.deps if self.final[d] == "skipped"]
        if skipped:
            return self.settle(name, "skipped", error=f"'{skipped[0]}' was skipped")
        if sp.spec.when is not None and not self.condition(sp.spec.when):
            return self.settle(name, "skipped", error=f"its condition '{sp.spec.when}' is false")
        if name in self.reuse:
            done = self.reuse[name]
            return self.settle(
                name, "cached", outputs=done.outputs, key=done.cache_key, inputs=done.inputs,
                cached_from=done.cached_from or done.run_id,
            )  # fmt: skip
        try:
            args = resolve_datasets(self.project, sp.kind, self.arguments(sp))
            key = cache_key(self.project, sp.kind, args, self.params)
        except ShipyardError as exc:
            return self.settle(name, "failed", error=f"{exc.kind}: {exc.message}")
        if sp.cache and not self.no_cache:
            hit = self.cached(key, sp.spec.expire_after)
            if hit is not None:
                return self.settle(
                    name, "cached", outputs=hit.outputs, key=key, inputs=args,
                    cached_from=hit.run_id,
                )  # fmt: skip
        now = datetime.now(UTC)
        self.update(name, "running", cache_key=key, inputs=args, started_at=now)
        self.on_event(StepEvent(name, "running"))
        task = StepTask(
            self.plan.name, self.run.id, name, sp.kind, args, self.params, sp.spec.retries,
            sp.spec.backoff, self.project.actor.face,
        )  # fmt: skip
        self.running[self.executor.submit(task)] = name
        return None

    def record(self, name: str, outcome: Outcome) -> None:
        self.update(
            name, outcome.status, attempts=outcome.attempts, outputs=outcome.outputs,
            logs=outcome.logs, error=outcome.error, started_at=outcome.started_at,
            ended_at=outcome.ended_at, lineage=outcome.lineage,
        )  # fmt: skip
        self.final[name] = outcome.status
        self.values[name] = outcome.outputs
        seconds = (outcome.ended_at - outcome.started_at).total_seconds()
        self.on_event(StepEvent(name, outcome.status, seconds, outcome.attempts, outcome.error))
        if outcome.status == "failed" and self.failure is None:
            self.failure = (
                outcome.error or "failed"
                if outcome.stopped
                else f"Step '{name}' failed: {outcome.error}"
            )

    def settle(
        self,
        name: str,
        status: str,
        *,
        outputs: dict[str, Any] | None = None,
        key: str | None = None,
        inputs: dict[str, Any] | None = None,
        error: str | None = None,
        cached_from: str | None = None,
    ) -> None:
        """A step that ends without running: skipped, reused, or failed before it started."""
        now = datetime.now(UTC)
        self.update(
            name, status, outputs=outputs, cache_key=key, inputs=inputs, error=error,
            cached_from=cached_from, started_at=now, ended_at=now,
        )  # fmt: skip
        self.final[name] = status
        self.values[name] = outputs or {}
        self.on_event(StepEvent(name, status, 0.0, error=error, cached_from=cached_from))
        if status == "failed" and self.failure is None:
            self.failure = f"Step '{name}' failed: {error}"

    # --- values ---------------------------------------------------------------------------
    def value(self, text: str) -> Any:
        ref = parse_reference(text)
        if ref is None:
            return None
        if ref.param is not None:
            value = self.params.get(ref.param)
        else:
            made = self.values.get(str(ref.step), {})
            output = ref.output or next(iter(self.plan.steps[str(ref.step)].kind.outputs))
            value = made.get(output)
        return (not value) if ref.negated else value

    def condition(self, text: str) -> bool:
        return bool(self.value(text))

    def arguments(self, sp: StepPlan) -> dict[str, Any]:
        args = {k: self.value(v) for k, v in sp.spec.inputs.items()}
        for key, value in sp.spec.config.items():
            args[key] = self.substitute(value)
        for key, arg in sp.kind.args.items():
            if key not in args and not arg.required:
                args[key] = arg.default
        return args

    def substitute(self, value: Any) -> Any:
        if not isinstance(value, str) or "${" not in value:
            return value
        whole = PARAM_IN_TEXT.fullmatch(value.strip())
        if whole:
            return self.params.get(whole.group(1))
        return PARAM_IN_TEXT.sub(lambda m: str(self.params.get(m.group(1))), value)

    def cached(self, key: str, expire_after: float | None) -> PipelineStep | None:
        not_before = None
        if expire_after is not None:
            not_before = datetime.now(UTC) - timedelta(seconds=expire_after)
        return self.project.catalog.find_cached_step(key, not_before=not_before)

    def update(self, name: str, status: str, **values: Any) -> None:
        self.project.catalog.update_pipeline_step(
            self.run.id, name, status=status, actor=self.project.actor, **values
        )


def execute(
    project: Project,
    plan: Plan,
    run: PipelineRun,
    executor: Executor,
    *,
    reuse: Mapping[str, PipelineStep] | None = None,
    no_cache: bool = False,
    on_event: OnEvent | None = None,
) -> PipelineRun:
    """Run the steps of ``plan`` as the catalog's ``run``; returns the run as it ended.

    ``reuse`` maps steps to their finished records in an earlier run (a resume): they are
    not run again. ``no_cache`` runs every step whose outputs are not reused that way.
    Interrupted (Ctrl-C, SIGTERM), the run is marked failed and the interrupt raised.
    """
    state = _Run(
        project, plan, run, executor, reuse=reuse or {}, no_cache=no_cache,
        on_event=on_event or (lambda _e: None),
    )  # fmt: skip
    catalog = project.catalog
    heartbeat = Heartbeat(catalog, beat=catalog.heartbeat_pipeline_runs).start()
    try:
        state.go()
    except BaseException as exc:
        error = "Interrupted." if isinstance(exc, KeyboardInterrupt) else f"The run broke: {exc!r}"
        with contextlib.suppress(ShipyardError):  # ended already: a repair took it for dead
            catalog.finish_pipeline_run(run.id, status="failed", error=error, actor=project.actor)
        raise
    finally:
        heartbeat.stop()
    status = "failed" if state.failure else "finished"
    ended = catalog.finish_pipeline_run(
        run.id, status=status, error=state.failure, actor=project.actor
    )
    for name in plan.steps:
        if name not in state.final and state.failure:
            state.on_event(StepEvent(name, "cancelled"))
    return ended
