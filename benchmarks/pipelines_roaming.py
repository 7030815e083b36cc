"""The roaming pipeline (``shipyard/pipelines/builtin/roaming.yaml``) run once, then again
with nothing changed: the second run reuses every step from the cache but those that act on
the registry or the monitor (register, promote x2, monitor) and the feature definitions'
apply, which run again (each well under a second).

    .venv/bin/python benchmarks/pipelines_roaming.py                  # the demo's size
    .venv/bin/python benchmarks/pipelines_roaming.py --subscribers 2000 --days 30 --budget 15

Times are wall seconds in this process, from ``run_pipeline`` called to returned (a
``shipyard pipelines run roaming`` process adds its start-up, about 1-2 s on a quiet machine).
The first rerun also scores the champion, which did not exist before the first run; the
figure is the median of the reruns after it.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from shipyard.demo._pipeline import write_config
from shipyard.pipelines import run_pipeline
from shipyard.project import init_project


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--budget", type=float, default=45.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    params = {"subscribers": args.subscribers, "days": args.days, "time_budget": args.budget}
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-roaming-") as folder:
        project = init_project(Path(folder) / "proj")
        write_config(project)  # the demo's gates: prod needs no person, as in `make demo`
        started = time.perf_counter()
        first = run_pipeline(project, "roaming", params)
        full = time.perf_counter() - started
        assert first.ok, first.run.error
        reruns, reused = [], 0
        for _ in range(args.repeat + 1):
            started = time.perf_counter()
            again = run_pipeline(project, "roaming", params)
            reruns.append(time.perf_counter() - started)
            reused = sum(s.status == "cached" for s in again.steps)
            assert again.ok, again.run.error
        project.close()
    rerun = statistics.median(reruns[1:])
    print(f"roaming pipeline, {args.subscribers:,} subscribers x {args.days} days, "
          f"AutoML {args.budget:g} s")  # fmt: skip
    print(f"  first run                          {full:7.1f} s")
    print(f"  rerun, champion now known          {reruns[0]:7.1f} s")
    print(f"  rerun, nothing changed             {rerun:7.2f} s  ({reused} of {len(again.steps)} "
          f"steps reused; median of {args.repeat})")  # fmt: skip
    print(f"  target: a fully cached rerun under 5 s: {'met' if rerun < 5 else 'NOT met'}")


if __name__ == "__main__":
    main()
