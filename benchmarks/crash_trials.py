"""Crash trials: kill -9 real ``shipyard`` commands at random moments, then check the project.

    .venv/bin/python benchmarks/crash_trials.py [--trials 50] [--only ingest,promote] [--seed 0]

Scenarios (each in a project of its own): ``ingest`` (a 20,000-row Parquet file into one
dataset), ``train-search`` (AutoML over linear, random forest and LightGBM with a 6 s budget,
killed at a random moment of the whole job), ``train-register`` (a single fit, killed at a
random moment after its bundle starts to appear in the artifact store), ``materialize``
(``shipyard features materialize`` of 60,000 events over 6,000 entities) and ``promote``
(``shipyard models promote`` of a random version to a random environment) and
``pipeline-step`` (``shipyard pipelines run`` of ingest, a Python step, a fit and a promotion;
each interrupted run must be marked failed and ``shipyard pipelines resume`` must finish it,
reusing the steps that succeeded).

After each trial the project is checked (``tests/reliability/_consistency.py``: dataset files
against fingerprints, bundles against manifests, aliases to ready versions, no pending version
or running run left, no version number twice, the audit chain, SQLite integrity), garbage
collection runs with no grace period, and the project is checked again. A lost write is a
write that a process reported done (it exited 0) and the project no longer holds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the harness lives in tests/

from tests.reliability._crash import SCENARIOS, Summary, run_trials


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50, help="Kills per scenario.")
    parser.add_argument("--only", default=",".join(SCENARIOS), help="Scenarios, comma-separated.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--search-budget",
        type=float,
        default=6.0,
        help="AutoML seconds of train-search (more on a loaded machine: its data preparation "
        "must leave time to search).",
    )
    args = parser.parse_args()
    summaries = []
    for kind in args.only.split(","):
        with tempfile.TemporaryDirectory(prefix=f"shipyard-crash-{kind}-") as tmp:
            summary = run_trials(
                kind, args.trials, Path(tmp) / "p", seed=args.seed, search_budget=args.search_budget
            )
        summaries.append(summary)
        _row(summary, flush=True)
    print_table(summaries)
    sys.exit(0 if all(not s.inconsistencies and not s.lost_writes for s in summaries) else 1)


def _row(s: Summary, flush: bool = False) -> None:
    print(
        f"{s.scenario}: {s.trials} trials, {s.killed} killed, {s.completed} completed, "
        f"{len(s.inconsistencies)} inconsistencies, {len(s.lost_writes)} lost writes, "
        f"{s.recovered} resumed, {s.seconds:.0f} s",
        flush=flush,
    )
    for problem in [*s.inconsistencies, *s.lost_writes][:20]:
        print("   ", problem[:500])


def print_table(summaries: list[Summary]) -> None:
    print("\nkill -9 at random moments, then check + gc + check (2 shared cores)\n")
    print(
        "| scenario | trials | killed | completed | inconsistencies | lost writes | "
        "gc removed | seconds |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for s in summaries:
        print(
            f"| {s.scenario} | {s.trials} | {s.killed} | {s.completed} | "
            f"{len(s.inconsistencies)} | {len(s.lost_writes)} | {s.collected} | "
            f"{s.seconds:.0f} |"
        )


if __name__ == "__main__":
    main()
