"""Schedules: a pipeline run by a cron expression (UTC), stored in the catalog so it outlives
any process, and the scheduler that starts the runs that are due.

Missed runs: a schedule whose slots passed while no scheduler ran gets **one** run on
catch-up (``missed="once"``, the default), however many slots it missed, and its next run is
the first slot after now; ``missed="skip"`` starts nothing for a late slot and waits for the
next one. A slot whose previous run is still running is skipped. Several schedulers may run
at once: each due slot is claimed in one catalog transaction, so one of them starts it.

Why not APScheduler: its job stores keep pickled jobs in tables of their own (not the
catalog, not its audit trail), its clock cannot be injected, and version 4, the one with
shared data stores, is a pre-release. cronsim (already a dependency) does the cron
arithmetic; what is left is a loop that waits for the earliest next run.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shipyard.entities import Schedule
from shipyard.errors import InvalidInput, ShipyardError, did_you_mean
from shipyard.project import Project

__all__ = [
    "MISSED",
    "Fired",
    "Scheduler",
    "check_cron",
    "list_schedules",
    "next_after",
    "remove_schedule",
    "schedule_pipeline",
]

log = logging.getLogger("shipyard.pipelines")

MISSED = ("once", "skip")
"""What a schedule does about slots missed while no scheduler ran."""
_STARTED: list[subprocess.Popen[bytes]] = []  # runs started here: kept so they are reaped
POLL_SECONDS = 30.0
"""The longest a scheduler sleeps, so it sees schedules added meanwhile."""


def check_cron(cron: str) -> None:
    """Refuse a cron expression cronsim cannot read.

    Raises:
        InvalidInput: It does not parse; the message shows the form.
    """
    from cronsim import CronSim, CronSimError

    try:
        CronSim(cron, datetime(2026, 1, 1, tzinfo=UTC))
    except (CronSimError, ValueError) as exc:
        raise InvalidInput(
            f"The schedule {cron!r} is not a cron expression: {exc}. Use five fields, minute "
            "hour day month weekday, in UTC; e.g. '0 2 * * *' for every day at 02:00."
        ) from None


def next_after(cron: str, at: datetime) -> datetime:
    """The first time ``cron`` fires strictly after ``at`` (UTC)."""
    from cronsim import CronSim

    return next(CronSim(cron, at.astimezone(UTC).replace(second=0, microsecond=0)))


def schedule_pipeline(
    project: Project,
    name: str,
    cron: str,
    *,
    params: Mapping[str, Any] | None = None,
    params_as_text: bool = False,
    missed: str = "once",
    now: datetime | None = None,
) -> Schedule:
    """Run pipeline ``name`` by ``cron`` (UTC) with ``params`` (replacing its schedule, if
    it had one). The pipeline and the parameters are checked now.

    Raises:
        InvalidInput: A cron expression that does not parse, an unknown missed-run policy,
            an invalid pipeline, or parameters it does not take.
        NotFound: No such pipeline.
    """
    from shipyard.pipelines._validate import bind_params
    from shipyard.pipelines.runs import load_pipeline

    check_cron(cron)
    if missed not in MISSED:
        raise InvalidInput(
            f"The missed-run policy is one of {', '.join(MISSED)}. Got {missed!r} instead."
            f"{did_you_mean(missed, MISSED)}"
        )
    checked = load_pipeline(project, name)
    given = dict(params or {})
    bound = bind_params(checked.spec, given, as_text=params_as_text)
    project.catalog.register_pipeline(
        checked.name, definition=checked.spec.to_json(), source=checked.spec.source,
        actor=project.actor,
    )  # fmt: skip
    return project.catalog.set_schedule(
        checked.name,
        cron=cron,
        params={k: bound[k] for k in given},
        missed=missed,
        next_run_at=next_after(cron, now or datetime.now(UTC)),
        actor=project.actor,
    )


def list_schedules(project: Project) -> list[Schedule]:
    """Every schedule, by pipeline."""
    return project.catalog.list_schedules()


def remove_schedule(project: Project, name: str) -> Schedule:
    """Stop running pipeline ``name`` on a schedule.

    Raises:
        NotFound: It has no schedule.
    """
    return project.catalog.delete_schedule(name, actor=project.actor)


@dataclass(frozen=True)
class Fired:
    """What the scheduler did with one due slot."""

    pipeline: str
    due: datetime
    started: bool
    reason: str
    run: str | None = None


Launch = Callable[[Schedule], "str | None"]


class Scheduler:
    """Starts the runs that are due. ``tick`` does one pass (tests call it with an injected
    clock); ``run_forever`` loops until stopped, sleeping until the earliest next run.

    Args:
        clock: Now, in UTC.
        launch: Starts a run of a schedule and returns its id, or None when it is started
            elsewhere (the default: a ``shipyard pipelines run`` process of its own, so a
            run outlives a restart of the scheduler, and one run's crash is not another's).
    """

    def __init__(
        self,
        project: Project,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        launch: Launch | None = None,
        poll: float = POLL_SECONDS,
    ) -> None:
        self.project, self.clock, self.poll = project, clock, poll
        self.launch = launch or self._spawn

    def tick(self) -> list[Fired]:
        """Start each due schedule's run once (see the module's missed-run policy)."""
        now = self.clock()
        fired = []
        for schedule in self.project.catalog.list_schedules():
            if schedule.next_run_at > now:
                continue
            claimed = self.project.catalog.claim_schedule(
                schedule.pipeline, due=schedule.next_run_at,
                next_run_at=next_after(schedule.cron, now), actor=self.project.actor,
            )  # fmt: skip
            if claimed is not None:
                fired.append(self._fire(schedule, now))
        return fired

    def _fire(self, schedule: Schedule, now: datetime) -> Fired:
        due = schedule.next_run_at
        latest_slot = next_after(schedule.cron, due) > now  # no later slot has passed since
        if schedule.missed == "skip" and not latest_slot:
            return Fired(schedule.pipeline, due, False, "missed slot skipped (policy: skip)")
        if self._still_running(schedule):
            return Fired(schedule.pipeline, due, False, "its previous run is still running")
        try:
            run = self.launch(schedule)
        except ShipyardError as exc:
            log.warning("Schedule of %s could not start: %s", schedule.pipeline, exc.message)
            return Fired(schedule.pipeline, due, False, exc.message)
        why = "due" if latest_slot else "catch-up: one run for the missed slots"
        return Fired(schedule.pipeline, due, True, why, run)

    def _still_running(self, schedule: Schedule) -> bool:
        from shipyard.pipelines.runs import fail_dead_pipeline_runs

        if schedule.last_run_id is None:
            return False
        fail_dead_pipeline_runs(self.project)
        try:
            last = self.project.catalog.get_pipeline_run(schedule.last_run_id)
        except ShipyardError:
            return False
        return last.status == "running"

    def sleep_seconds(self) -> float:
        """Seconds until the earliest next run (at most ``poll``)."""
        schedules = self.project.catalog.list_schedules()
        if not schedules:
            return self.poll
        earliest = min(s.next_run_at for s in schedules)
        return max(0.0, min(self.poll, (earliest - self.clock()).total_seconds()))

    def run_forever(
        self, stop: threading.Event, on_fired: Callable[[Fired], None] | None = None
    ) -> None:
        """Tick, then sleep until the next run is due, until ``stop`` is set."""
        while not stop.is_set():
            for fired in self.tick():
                if on_fired:
                    on_fired(fired)
            stop.wait(self.sleep_seconds())

    def _spawn(self, schedule: Schedule) -> str | None:
        spawn_run(self.project, schedule.pipeline, schedule.params, "schedule")
        return None  # the run records itself, and the schedule's last run, when it starts


def spawn_run(project: Project, name: str, params: Mapping[str, Any], trigger: str) -> None:
    """Start ``shipyard pipelines run NAME`` in a process of its own (its output goes to
    ``.shipyard/logs/pipelines/``); the run records itself in the catalog."""
    command = [sys.executable, "-m", "shipyard", "-C", str(project.root), "pipelines", "run",
               name, "--trigger", trigger]  # fmt: skip
    for key, value in params.items():
        text = value if isinstance(value, str) else json.dumps(value)
        command += ["-p", f"{key}={text}"]
    folder = project.dir / "logs" / "pipelines"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    out = Path(folder / f"{name}-{stamp}.log").open("ab")  # noqa: SIM115 - the child owns it
    try:
        child = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        _STARTED[:] = [p for p in _STARTED if p.poll() is None] + [child]
    except OSError as exc:
        raise InvalidInput(f"Could not start a run of {name}: {exc}.") from exc
    finally:
        out.close()
    return None
