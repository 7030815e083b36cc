"""Running one step where an executor put it (a thread here, a Ray worker): its attempts with
backoff, its output captured as its log, its outputs stored as typed values."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tenacity

from shipyard.errors import ShipyardError
from shipyard.pipelines._capture import step_log
from shipyard.pipelines._kinds import StepContext, StepFailed, StepKind
from shipyard.pipelines._outputs import store_outputs
from shipyard.project import Project

__all__ = ["Outcome", "StepTask", "run_task"]


@dataclass(frozen=True)
class StepTask:
    """Everything a step needs to run, picklable for a Ray worker."""

    pipeline: str
    run_id: str
    step: str
    kind: StepKind
    args: dict[str, Any]
    params: dict[str, Any]
    retries: int = 0
    backoff: float = 1.0
    face: str = "sdk"


@dataclass(frozen=True)
class Outcome:
    """How a step went: ``finished`` with outputs, or ``failed`` with an error (``stopped``
    when a fail step or a refused gate stopped the run on purpose)."""

    step: str
    status: str
    outputs: dict[str, Any] = field(default_factory=dict)
    lineage: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None
    stopped: bool = False
    attempts: int = 1
    logs: str = ""
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    ended_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def run_task(
    task: StepTask, project: Project, *, sleep: Callable[[float], None] = time.sleep
) -> Outcome:
    """Run ``task``: up to ``retries`` more attempts after a failure, ``backoff`` seconds
    before the second and doubled each time after; a :class:`StepFailed` is never retried.
    Never raises: the error is in the outcome."""
    started = datetime.now(UTC)
    ctx = StepContext(project, task.pipeline, task.run_id, task.step, dict(task.params))
    attempts = 0

    def attempt() -> tuple[dict[str, Any], list[tuple[str, str]]]:
        nonlocal attempts
        attempts += 1
        result = task.kind.run(ctx, dict(task.args)) or {}
        outputs, made = store_outputs(ctx, task.kind, result)
        given = {str(v) for v in task.args.values()}  # handed on, not made (promote, register)
        return outputs, [(kind, ref) for kind, ref in made if ref not in given]

    def before_sleep(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        print(f"attempt {state.attempt_number} failed: {_error(exc)}; retrying in {wait:g} s")

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(task.retries + 1),
        wait=tenacity.wait_exponential(multiplier=task.backoff, max=3600),
        retry=tenacity.retry_if_not_exception_type(StepFailed),
        before_sleep=before_sleep,
        sleep=sleep,
        reraise=True,
    )
    with step_log() as log:
        try:
            outputs, lineage = retrying(attempt)
        except StepFailed as exc:
            return _outcome(task, "failed", log, attempts, started, error=str(exc), stopped=True)
        except BaseException as exc:
            if not isinstance(exc, Exception):
                raise  # KeyboardInterrupt, SystemExit: the run itself is being stopped
            if not isinstance(exc, ShipyardError):
                print("".join(traceback.format_exception(exc)).rstrip())
            return _outcome(task, "failed", log, attempts, started, error=_error(exc))
    return _outcome(task, "finished", log, attempts, started, outputs=outputs, lineage=lineage)


def _outcome(
    task: StepTask, status: str, log: list[str], attempts: int, started: datetime, **kw: Any
) -> Outcome:
    return Outcome(
        task.step, status, attempts=attempts, logs="".join(log), started_at=started,
        ended_at=datetime.now(UTC), **kw,
    )  # fmt: skip


def _error(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown error"
    if isinstance(exc, ShipyardError):
        return f"{exc.kind}: {exc.message}"
    return "".join(traceback.format_exception_only(exc)).strip()


def run_task_in_worker(task: StepTask, root: str) -> Outcome:
    """Run ``task`` in a Ray worker: the project opened there from its folder."""
    from shipyard.pipelines._capture import capturing

    with capturing(), Project(Path(root), face=task.face) as project:
        return run_task(task, project)
