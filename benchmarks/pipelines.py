"""Pipeline overhead: a 13-step pipeline run by ``shipyard.pipelines`` versus calling the same
functions directly, and the same pipeline again when every step is cached.

    .venv/bin/python benchmarks/pipelines.py                 # 200,000 rows, 5 cached reruns
    .venv/bin/python benchmarks/pipelines.py --rows 1000000 --repeat 10

The pipeline: an ``ingest`` of a Parquet file, then twelve user steps over it (a cleaning
step, four statistics read from it at once, a filter, four more statistics of the filtered
table, a condition and a summary): three layers wide at most. "Direct" calls the same
functions in the same order, reading and publishing the same datasets, without the pipeline
layer. The overhead of a run is its wall time minus the direct time; a cached rerun runs no
function at all, so its whole wall time is the layer's (validation, cache keys from content
fingerprints, the catalog's records of 13 steps). The project is the embedded default
(SQLite catalog), so the figures include its fsyncs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from shipyard.ingest import ingest_path
from shipyard.pipelines import Dataset, pipeline, run_pipeline, step, use
from shipyard.project import init_project


@step
def clean(data: Dataset) -> Dataset:
    frame = data.to_pandas()
    return frame[frame["amount"] > 0]


@step
def mean_of(data: Dataset, column: str) -> float:
    return float(data.to_pandas()[column].mean())


@step
def large(data: Dataset, above: float) -> Dataset:
    frame = data.to_pandas()
    return frame[frame["amount"] > above]


@step
def summary(a: float, b: float, c: float, d: float) -> dict:
    return {"means": [a, b, c, d]}


@pipeline(name="bench13")
def bench13(path: str = "", above: float = 50.0) -> None:
    raw = use("ingest", path=path, name="bench_raw")
    cleaned = clean(raw.dataset)
    firsts = [
        mean_of.using(name=f"mean_{c}")(cleaned, column=c) for c in ("amount", "x1", "x2", "x3")
    ]
    big = large(cleaned, above=above)
    seconds = [mean_of.using(name=f"big_{c}")(big, column=c) for c in ("amount", "x1", "x2", "x3")]
    use("condition", step_name="enough", check="left > 0", left=seconds[0])
    summary(*firsts)


def direct(project: object, path: Path) -> None:
    """The same work, called directly: ingest, then each function on handles."""
    raw = ingest_path(project, path, "bench_direct").version.ref  # type: ignore[arg-type]
    handle = Dataset(raw, project)  # type: ignore[arg-type]
    cleaned = ingest_frame(project, clean.fn(handle), "bench_direct_clean")
    firsts = [mean_of.fn(cleaned, c) for c in ("amount", "x1", "x2", "x3")]
    big = ingest_frame(project, large.fn(cleaned, 50.0), "bench_direct_large")
    seconds = [mean_of.fn(big, c) for c in ("amount", "x1", "x2", "x3")]
    assert seconds[0] > 0
    summary.fn(*firsts)


def ingest_frame(project: object, frame: pd.DataFrame, name: str) -> Dataset:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "part.parquet"
        frame.to_parquet(path, index=False)
        return Dataset(ingest_path(project, path, name).version.ref, project)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-pipelines-") as folder:
        root = Path(folder)
        columns = {f"x{i}": rng.normal(size=args.rows) for i in (1, 2, 3)}
        frame = pd.DataFrame({"amount": rng.gamma(2.0, 50.0, args.rows) - 5, **columns})
        data = root / "raw.parquet"
        frame.to_parquet(data, index=False)
        project = init_project(root / "proj")
        params = {"path": str(data)}
        started = time.perf_counter()
        first = run_pipeline(project, bench13, params)
        uncached = time.perf_counter() - started
        assert first.ok, first.run.error
        started = time.perf_counter()
        direct(project, data)
        plain = time.perf_counter() - started
        cached = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            again = run_pipeline(project, bench13, params)
            cached.append(time.perf_counter() - started)
            assert {s.status for s in again.steps} == {"cached"}, [s.status for s in again.steps]
        project.close()
    rerun = statistics.median(cached)
    print(f"13-step pipeline over {args.rows:,} rows (embedded project, SQLite catalog)")
    print(f"  direct calls of the same functions   {plain:7.3f} s")
    print(
        f"  pipeline, first run (nothing cached) {uncached:7.3f} s  "
        f"(layer: {uncached - plain:+.3f} s)"
    )
    print(
        f"  pipeline, every step cached          {rerun:7.3f} s  (median of {args.repeat}; "
        f"min {min(cached):.3f}, max {max(cached):.3f}; {rerun / 13 * 1000:.1f} ms per step)"
    )
    print(f"  target: a fully cached 13-step run under 1 s: {'met' if rerun < 1 else 'NOT met'}")


if __name__ == "__main__":
    main()
