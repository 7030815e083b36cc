"""Schedules: stored in the catalog, fired by the scheduler when due (an injected clock, no
sleeping), one catch-up run for missed slots, and bad crons refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml

from shipyard.entities import Schedule
from shipyard.errors import InvalidInput, NotFound
from shipyard.pipelines import Scheduler, list_schedules, run_pipeline, schedule_pipeline
from shipyard.project import Project

T0 = datetime(2026, 3, 1, 1, 30, tzinfo=UTC)

S = "tests.pipelines._steps"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def nightly(project: Project) -> str:
    folder = project.root / "pipelines"
    folder.mkdir()
    (folder / "nightly.yaml").write_text(yaml.safe_dump({
        "name": "nightly",
        "parameters": {"n": 1},
        "steps": [{"name": "add", "function": f"{S}:first",
                   "inputs": {"n": "params.n"}, "cache": False}],
    }))  # fmt: skip
    return "nightly"


def _scheduler(project: Project, clock: Clock) -> Scheduler:
    def launch(schedule: Schedule) -> str:
        return run_pipeline(project, schedule.pipeline, schedule.params, trigger="schedule").run.id

    return Scheduler(project, clock=clock, launch=launch)


def test_a_schedule_fires_when_due_and_survives_a_restart(project: Project, nightly: str) -> None:
    stored = schedule_pipeline(project, nightly, "0 2 * * *", params={"n": "41"},
                               params_as_text=True, now=T0)  # fmt: skip
    assert (stored.next_run_at, stored.params) == (T0.replace(hour=2, minute=0), {"n": 41})
    clock = Clock(T0 + timedelta(minutes=20))
    assert _scheduler(project, clock).tick() == []  # 01:50: not yet

    clock.now = T0 + timedelta(minutes=31)  # 02:01, and a new scheduler: all from the catalog
    (fired,) = _scheduler(project, clock).tick()
    assert (fired.started, fired.reason, fired.due) == (True, "due", T0.replace(hour=2, minute=0))
    run = project.catalog.get_pipeline_run(str(fired.run))
    assert (run.trigger, run.status, run.params) == ("schedule", "finished", {"n": 41})
    (after,) = list_schedules(project)
    assert after.next_run_at == datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    assert after.last_run_id == run.id
    assert _scheduler(project, clock).tick() == []  # the slot is taken: nothing twice


def test_missed_slots_run_once_on_catch_up(project: Project, nightly: str) -> None:
    schedule_pipeline(project, nightly, "0 * * * *", now=T0)  # hourly, due 02:00
    clock = Clock(T0 + timedelta(hours=5))  # down from 01:30 to 06:30: five slots missed
    (fired,) = _scheduler(project, clock).tick()
    assert fired.started and fired.reason.startswith("catch-up")
    assert len(project.catalog.list_pipeline_runs("nightly")) == 1
    assert list_schedules(project)[0].next_run_at == datetime(2026, 3, 1, 7, tzinfo=UTC)


def test_the_skip_policy_starts_nothing_for_a_late_slot(project: Project, nightly: str) -> None:
    schedule_pipeline(project, nightly, "0 * * * *", missed="skip", now=T0)
    clock = Clock(T0 + timedelta(hours=3))
    (fired,) = _scheduler(project, clock).tick()
    assert (fired.started, fired.reason) == (False, "missed slot skipped (policy: skip)")
    clock.now = datetime(2026, 3, 1, 5, 0, 10, tzinfo=UTC)
    (on_time,) = _scheduler(project, clock).tick()
    assert on_time.started


def test_the_scheduler_sleeps_until_the_next_run(project: Project, nightly: str) -> None:
    schedule_pipeline(project, nightly, "0 2 * * *", now=T0)
    scheduler = Scheduler(project, clock=Clock(T0), poll=3600)
    assert scheduler.sleep_seconds() == 30 * 60


@pytest.mark.parametrize("cron", ["0 2 * *", "61 * * * *", "every day"])
def test_an_unparseable_cron_is_refused(project: Project, nightly: str, cron: str) -> None:
    with pytest.raises(InvalidInput, match="is not a cron expression"):
        schedule_pipeline(project, nightly, cron)
    assert list_schedules(project) == []


def test_a_schedule_needs_a_pipeline_and_its_parameters(project: Project, nightly: str) -> None:
    with pytest.raises(NotFound):
        schedule_pipeline(project, "nightlly", "0 2 * * *")
    with pytest.raises(InvalidInput, match="must be a whole number"):
        schedule_pipeline(project, nightly, "0 2 * * *", params={"n": "x"}, params_as_text=True)
    with pytest.raises(InvalidInput, match="missed-run policy"):
        schedule_pipeline(project, nightly, "0 2 * * *", missed="all")
