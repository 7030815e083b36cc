"""``shipyard demo``: the roaming-fraud lifecycle end to end and in real time, on the embedded
default (Redis carries the replayed stream when it answers)."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from shipyard.demo._console import MODEL, print_summary
from shipyard.demo.data import drift_start
from shipyard.project import Project, init_project

if TYPE_CHECKING:
    from shipyard.demo._replay import Replay

__all__ = ["DemoSummary", "run_demo"]

_START = "2026-01-01"


@dataclass
class DemoSummary:
    """What the demo made, what it measured, and where it is."""

    project: str
    datasets: dict[str, int] = field(default_factory=dict)
    model: str = ""
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    reports: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    replay: dict[str, Any] = field(default_factory=dict)
    serving: dict[str, Any] = field(default_factory=dict)
    monitor: dict[str, Any] = field(default_factory=dict)
    pipeline: dict[str, Any] = field(default_factory=dict)
    retrain: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


class _Steps:
    """Prints each step's title and records how long it took."""

    def __init__(self, out: Console, summary: DemoSummary) -> None:
        self.out, self.summary = out, summary
        self.name, self.started = "", 0.0

    def __call__(self, name: str, title: str) -> None:
        self.done()
        self.name, self.started = name, time.perf_counter()
        self.out.print(f"[bold cyan]>[/] {title}")

    def done(self) -> None:
        if self.name:
            self.summary.timings[self.name] = round(time.perf_counter() - self.started, 1)
            self.name = ""


def run_demo(
    directory: Path | None = None,
    *,
    subscribers: int = 20_000,
    days: int = 60,
    seed: int = 0,
    time_budget: float | None = 45.0,
    replay_days: int = 2,
    http_requests: int = 2000,
    retrain_budget: float = 0.0,
    console: Console | None = None,
) -> DemoSummary:
    """Generate and ingest; build the training table through the feature store; profile,
    train, promote; replay the later period as a stream scored from online features;
    monitor it as labels arrive; serve over HTTP with capture on; retrain on the later
    period with the labels known by then as the monitor's alerts ask, and promote the new
    model if it beats the champion on the recent labelled window. ``retrain_budget`` is the
    retraining's AutoML seconds (default 0: one LightGBM fit, which no slow read of the
    data on a loaded machine can leave without time)."""
    out = console or Console()
    started = time.perf_counter()
    root = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="shipyard-demo-"))
    project = init_project(root, face="cli")
    summary = DemoSummary(project=str(project.root))
    step = _Steps(out, summary)
    with project:
        _offline(project, summary, step, subscribers=subscribers, days=days, seed=seed,
                 time_budget=time_budget)  # fmt: skip
        since = datetime.combine(drift_start(_START, days), datetime.min.time())
        later = days - (since.date() - datetime.fromisoformat(_START).date()).days
        until = since + timedelta(days=max(1, min(replay_days, later)))
        replayed = _online(project, summary, step, since, until)
        _watch(project, summary, step, replayed, since, until)
        if replayed.scored is not None and http_requests > 0:
            step("serve", f"Serving {MODEL}@prod with capture on, on a loopback port")
            from shipyard.demo._serve import exercise_server

            served = exercise_server(project, f"{MODEL}@prod", until, out, count=http_requests)
            summary.serving = dict(served.__dict__)
        if summary.monitor:
            _retrain(project, summary, step, subscribers=subscribers, days=days, seed=seed,
                     time_budget=retrain_budget)  # fmt: skip
        step.done()
    summary.seconds = time.perf_counter() - started
    print_summary(summary, out)
    return summary


def _offline(
    project: Project,
    summary: DemoSummary,
    step: _Steps,
    *,
    subscribers: int,
    days: int,
    seed: int,
    time_budget: float | None,
) -> None:
    """The roaming pipeline, once for real and once more with nothing changed (cached)."""
    from shipyard.demo._pipeline import PIPELINE, read_back, run_roaming, write_config

    out = step.out
    write_config(project)
    params = {"subscribers": subscribers, "days": days, "seed": seed,
              "time_budget": time_budget or 0.0}  # fmt: skip
    how = f"AutoML ({time_budget:.0f} s budget)" if time_budget else "one LightGBM fit"
    step(
        "pipeline",
        f"Running the {PIPELINE} pipeline: {subscribers:,} subscribers x {days} days generated "
        f"and ingested, a training table through the feature store, profile and bias, "
        f"{how}, evaluated and gated against {MODEL}@prod, registered with a baseline, "
        "promoted to staging and prod through their gates (shipyard.yaml), batch, monitor",
    )
    first = run_roaming(project, params, out)
    out.print(f"  run {first.result.run.id[:12]}: {len(first.result.steps)} steps in "
              f"{first.seconds:.1f} s")  # fmt: skip
    read_back(project, first.result, summary, out)
    step("pipeline_again", f"Running the {PIPELINE} pipeline again, nothing changed")
    again = run_roaming(project, params, out)
    reused, total = len(again.reused), len(again.result.steps) - len(again.acted)
    out.print(
        f"  [green]{reused} of the {total} cacheable steps reused[/] from run "
        f"{first.result.run.id[:8]}; {again.seconds:.1f} s in all"
    )
    if again.ran:  # evaluate's key holds the champion: fraud@prod did not exist on run one
        out.print(f"  ran again as their inputs changed: {', '.join(again.ran)} "
                  f"({MODEL}@prod is the champion now)")  # fmt: skip
    out.print(f"  ran again by design (they act on the feature store, the registry and the "
              f"monitors, idempotently): {', '.join(again.acted)}")  # fmt: skip
    summary.pipeline = {"run": first.result.run.id, "seconds": round(first.seconds, 1),
                        "rerun": again.result.run.id, "rerun_seconds": round(again.seconds, 2),
                        "reused": again.reused, "ran_again": again.ran,
                        "acted_again": again.acted}  # fmt: skip


def _online(
    project: Project, summary: DemoSummary, step: _Steps, since: datetime, until: datetime
) -> Replay:
    from shipyard.capture import CaptureWriter
    from shipyard.demo._console import print_replay
    from shipyard.demo._replay import replay
    from shipyard.demo._stream import open_sink
    from shipyard.features import check_skew, materialize
    from shipyard.registry import resolve_model

    out = step.out
    step("materialize", "Materializing the online store from the history")
    for report in materialize(project):
        out.print(
            f"  {report.group}: {report.events:,} events, {report.entities:,} subscribers "
            f"in {report.seconds:.1f} s"
        )
    sink = open_sink(project)
    step(
        "replay",
        f"Replaying {since:%Y-%m-%d} .. {until - timedelta(seconds=1):%Y-%m-%d} (the first "
        f"{(until - since).days} day(s) of the drifted period) through {sink.name}",
    )
    version = resolve_model(project, f"{MODEL}@prod")
    capture = CaptureWriter(project.artifacts, version.name, version.version, version.signature)
    try:
        replayed = replay(project, f"{MODEL}@prod", sink, capture, since, until)
    finally:
        sink.close()
        capture.close()
    skew = check_skew(project, "roaming_usage", sample=500)
    print_replay(replayed, skew, out)
    summary.replay = {
        "path": replayed.path, "records": replayed.records, "alerts": replayed.alerts,
        "events_per_s": round(replayed.rate), "late": replayed.late, "skew_ok": skew.ok,
        "skew_entities": skew.entities, "skew_mismatches": skew.mismatch_count,
    }  # fmt: skip
    return replayed


def _retrain(
    project: Project,
    summary: DemoSummary,
    step: _Steps,
    *,
    subscribers: int,
    days: int,
    seed: int,
    time_budget: float,
) -> None:
    """The loop closed: the monitor's alerts start the roaming pipeline again once the later
    period's labels are known; the new model replaces the champion only if it wins."""
    from shipyard.demo._console import print_retrain
    from shipyard.demo._retrain import retrain
    from shipyard.demo._watch import MATURITY, MONITOR

    end = datetime.fromisoformat(_START) + timedelta(days=days)
    known_by = end + MATURITY
    step(
        "retrain",
        f"Retraining as {MONITOR}'s alerts ask (pipeline:roaming): the later period has "
        f"arrived; the labels known by {known_by:%Y-%m-%d}; "
        + (f"AutoML ({time_budget:.0f} s budget)" if time_budget else "one LightGBM fit")
        + f"; gated against {MODEL}@prod on the most recent labelled window",
    )
    params = {"subscribers": subscribers, "days": days, "seed": seed, "time_budget": time_budget}
    found = retrain(project, params, known_by, MONITOR, step.out)
    print_retrain(found, step.out)
    summary.retrain = dict(found.__dict__)


def _watch(
    project: Project,
    summary: DemoSummary,
    step: _Steps,
    replayed: Replay,
    since: datetime,
    until: datetime,
) -> None:
    from shipyard.demo._console import print_watch
    from shipyard.demo._watch import MONITOR, watch

    if replayed.scored is None:
        return
    step("monitor", f"Monitoring the replayed traffic ({MONITOR}) as labels arrive")
    found = watch(project, replayed.scored, since, until, step.out)
    print_watch(project, found, step.out)
    summary.monitor = dict(found.__dict__)
    if found.reports:
        summary.reports["monitor"] = found.reports[-1]
