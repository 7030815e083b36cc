"""The demo's offline part as the roaming pipeline (``shipyard/pipelines/builtin/roaming.yaml``):
the project's ``shipyard.yaml`` that makes it an automated line, the run with live progress,
and what the steps made, read back for the demo's console and summary."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.errors import NotFound, ShipyardError

if TYPE_CHECKING:
    from rich.console import Console

    from shipyard.demo.run import DemoSummary
    from shipyard.entities import PipelineStep
    from shipyard.pipelines import RunResult, StepEvent
    from shipyard.project import Project

__all__ = [
    "CONFIG",
    "PIPELINE",
    "Pipelined",
    "read_back",
    "roaming_run",
    "run_roaming",
    "write_config",
]

PIPELINE = "roaming"
"""The built-in pipeline the demo runs."""
STANDING_MONITOR = "fraud-drift"
"""The monitor the pipeline makes sure of (data quality and drift); the demo's own labelled
one, ``fraud-watch``, is made when the first labels of the replayed traffic are known."""
CONFIG = """\
# The demo project is an automated line: the roaming pipeline (`shipyard pipelines run
# roaming`) promotes to prod with no person in between, so prod's approval gate is off.
# prod keeps its other gates: no training diagnostic at error, a monitoring baseline
# attached (the pipeline's register step makes it), and the champion gate: the candidate
# must beat fraud@prod in PR AUC on its held-out rows, the lower end of the 95% paired
# bootstrap interval of the gain above 0. A line with a person in it keeps approval: true
# (the default) and approves with `shipyard models approve`.
environments:
  prod:
    gates:
      approval: false
      diagnostics: true
      baseline: true
      champion: {metric: pr_auc, margin: 0.0}
"""
_MARK = {"finished": "[green]done[/]", "cached": "[cyan]reused[/]", "failed": "[red]FAILED[/]",
         "skipped": "[dim]skipped[/]", "cancelled": "[dim]cancelled[/]"}  # fmt: skip


def write_config(project: Project) -> None:
    """Write the demo's ``shipyard.yaml`` beside ``.shipyard/``, unless the folder has one."""
    from shipyard.environments import CONFIG_FILE

    path = project.root / CONFIG_FILE
    if not path.exists():
        path.write_text(CONFIG)


@dataclass(frozen=True)
class Pipelined:
    """A finished run of the roaming pipeline and how long it took."""

    result: RunResult
    seconds: float
    uncached: frozenset[str] = frozenset()
    """The steps the pipeline never caches (they act on the registry or the monitors)."""

    @property
    def failed(self) -> PipelineStep | None:
        """The step that failed, if one did."""
        return next((s for s in self.result.steps if s.status == "failed"), None)

    @property
    def reused(self) -> list[str]:
        return [s.step for s in self.result.steps if s.status == "cached"]

    @property
    def ran(self) -> list[str]:
        """The steps that may be cached and still ran: their inputs changed."""
        return [
            s.step
            for s in self.result.steps
            if s.status == "finished" and s.step not in self.uncached
        ]

    @property
    def acted(self) -> list[str]:
        """The never-cached steps that ran (cheap and idempotent)."""
        return [s.step for s in self.result.steps if s.step in self.uncached]


class _Progress:
    """One line per step as it ends (the steps run in threads; events come in order)."""

    def __init__(self, out: Console) -> None:
        self.out = out

    def __call__(self, event: StepEvent) -> None:
        mark = _MARK.get(event.status)
        if mark is None:
            return
        took = "" if event.seconds is None else f" {event.seconds:.1f} s"
        note = f" (from run {event.cached_from[:8]})" if event.cached_from else ""
        if event.error:
            note = f": {event.error.splitlines()[0][:100]}"
        self.out.print(f"  {mark} {event.step}{took}{note}")


def run_roaming(
    project: Project, params: dict[str, Any], out: Console, *, trigger: str = "manual"
) -> Pipelined:
    """Run the roaming pipeline with ``params``, printing each step as it ends.

    Raises:
        ShipyardError: The run failed; the message names the step and its error, and how
            to look at the run and resume it.
    """
    done = roaming_run(project, params, out, trigger=trigger)
    result = done.result
    if not result.ok:
        failed = done.failed
        where = f" at step '{failed.step}'" if failed else ""
        logs = (failed.logs if failed else "").strip().splitlines()[-5:]
        raise ShipyardError(
            f"The roaming pipeline failed{where}: {result.run.error}. "
            + (f"Its last lines: {' | '.join(logs)}. " if logs else "")
            + f"See `shipyard pipelines show {result.run.id[:12]}`, fix the cause and "
            f"`shipyard pipelines resume {result.run.id[:12]}`."
        )
    return done


def roaming_run(
    project: Project, params: dict[str, Any], out: Console, *, trigger: str = "manual"
) -> Pipelined:
    """Run the roaming pipeline with ``params``, printing each step as it ends, and return
    the run, failed or not; ``trigger`` is what started it, for the record (``monitor:NAME``
    when a monitor's alert did)."""
    from shipyard.pipelines import load_pipeline, run_pipeline

    uncached = frozenset(
        n for n, p in load_pipeline(project, PIPELINE).steps.items() if not p.cache
    )
    started = time.perf_counter()
    given = {"monitor": STANDING_MONITOR, **params}
    result = run_pipeline(project, PIPELINE, given, trigger=trigger, on_event=_Progress(out))
    return Pipelined(result, time.perf_counter() - started, uncached)


def log_lines(result: RunResult, step: str, prefix: str = "") -> list[str]:
    """The lines step ``step`` logged (those starting with ``prefix``)."""
    lines = result.step(step).logs.splitlines()
    return [line for line in lines if line.strip() and line.startswith(prefix)]


def read_back(project: Project, run: RunResult, summary: DemoSummary, out: Console) -> None:
    """Print what the first run made, as the demo did step by step, and record it in
    ``summary``: the datasets, the training table, the profile and bias readings, the search
    and the evaluation, the gates of the promotion to prod."""
    from shipyard.demo._console import print_analysis, print_evaluation
    from shipyard.evaluation import load_evaluation
    from shipyard.evaluation.console import leaderboard_table
    from shipyard.pipelines import Dataset

    for step in ("ingest-subscribers", "ingest-usage", "ingest-later", "ingest-labels",
                 "profiles"):  # fmt: skip
        ref = run.outputs(step)["dataset"]
        summary.datasets[ref] = Dataset(ref, project).version.num_rows
    made = run.outputs("training-set")
    table, stats = made["dataset"], made["stats"]
    summary.datasets[table] = stats["rows"]
    columns = run.outputs("no-constant-column")["result"]
    out.print(
        f"  {', '.join(f'{r} {n:,} rows' for r, n in summary.datasets.items())}\n"
        f"  {table}: {stats['rows']:,} rows x {columns} columns; {stats['labels_used']:,} rows "
        "carry a fraud label confirmed by the training cut-off, the others 0"
    )
    out.print(f"  [green]no training column is constant[/] (checked all {columns})")
    reports = {}
    for step in ("profile", "bias"):
        stored = run.outputs(step)["report"]
        reports[step] = project.catalog.get_report(stored["subject"], stored["kind"])
        summary.reports[step] = _local(reports[step].html_uri)
    print_analysis(reports["profile"].payload, reports["bias"].payload, out)
    trained = run.outputs("train")
    summary.model, summary.metrics = trained["model"], trained["metrics"]
    try:
        board = project.catalog.get_report(summary.model, "leaderboard").payload["rows"]
        out.print(leaderboard_table(board, limit=5))
    except NotFound:  # one fit, no search
        pass
    evaluation = load_evaluation(project, summary.model)
    print_evaluation(evaluation.payload, out)
    summary.reports["evaluation"] = evaluation.location
    for line in log_lines(run, "gate") + log_lines(run, "prod", "gate "):
        out.print(f"  {line}")
    out.print(f"  {log_lines(run, 'prod')[-1]}")


def _local(uri: str | None) -> str:
    if uri and uri.startswith("file://"):
        return uri[len("file://") :]
    return uri or "(no HTML page)"
