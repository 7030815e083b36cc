"""Online feature store benchmark: materialize, online read, streaming; beside Feast.

    .venv/bin/python benchmarks/features_online.py                       # 5M rows
    .venv/bin/python benchmarks/features_online.py --rows 500000 --skip-feast
    SHIPYARD_TEST_REDIS_URL=redis://127.0.0.1:6379/12 .venv/bin/python benchmarks/...

Data: the offline benchmark's generator (``--rows`` rows, 200k entities, 60 days, 10 float
features). Our group has 10 features: 5 latest column values and 5 windowed aggregates (1h,
24h, 7d), so a read computes windows at request time. Figures: materialize time and peak RSS
(in a child process), online read of 1 entity x 10 features p50/p99 in process (embedded
SQLite and Redis), streaming ``push`` throughput (batches of 5,000; online only, i.e. minus
the time spent appending to the offline log, and with it), and Feast 0.47 materializing the 10
plain features into SQLite + its online read.

The machine may be shared: the load average is printed, and beside each wall-clock figure a
CPU-time one (materialize: every thread's CPU seconds; reads: the thread's CPU time per read;
streaming: events per CPU second), which other processes' load does not inflate. Reads run
after ``gc.freeze()``, as the inference server does. ``--data DIR`` keeps the generated data
between runs.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
FEATURES = [f"f{i}" for i in range(10)]
ENTITIES = 200_000


def generate(folder: Path, rows: int, entities: int = ENTITIES, seed: int = 0) -> None:
    """The offline benchmark's data (same generator, same seed)."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-01T00:00:00", "us")
    ts = start + rng.integers(0, 60 * 86_400, rows).astype("timedelta64[s]")
    columns = {"entity_id": rng.integers(0, entities, rows), "event_timestamp": ts}
    columns |= {f: rng.random(rows) for f in FEATURES}
    pq.write_table(pa.table(columns), folder / "features.parquet", row_group_size=1_000_000)


def _group() -> object:
    from shipyard.features import Aggregate, Column, FeatureGroup

    features = [Column(f) for f in FEATURES[:5]] + [
        Aggregate("count", window="1h"),
        Aggregate("sum", "f5", "24h"),
        Aggregate("mean", "f6", "7d"),
        Aggregate("max", "f7", "24h"),
        Aggregate("min", "f8", "7d"),
    ]
    return FeatureGroup("usage10", "entity", "usage", "event_timestamp", tuple(features))


def _project(folder: Path, online_url: str | None = None) -> object:
    from shipyard.project import Project
    from shipyard.settings import load_settings

    root = folder / "project"
    return Project(root, settings=load_settings(root, online_url=online_url))


def setup(folder: Path) -> None:
    from shipyard.features import Entity, FeatureSet, apply
    from shipyard.ingest import ingest_path
    from shipyard.project import init_project

    project = init_project(folder / "project")
    ingest_path(project, folder / "features.parquet", "usage")
    apply(project, FeatureSet((Entity("entity", ("entity_id",)),), (_group(),)))  # type: ignore[arg-type]
    project.close()


def child_materialize(folder: Path, online_url: str | None) -> None:
    """Runs in a child process so its peak RSS is materialize's own."""
    from shipyard.features import materialize

    project = _project(folder, online_url)
    started = time.perf_counter()
    (report,) = materialize(project, "usage10")  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = usage.ru_maxrss / 1024
    cpu = usage.ru_utime + usage.ru_stime  # every thread's, imports included
    print(json.dumps({"seconds": seconds, "cpu_s": cpu, "peak_mb": peak, "events": report.events}))


def run_materialize(folder: Path, online_url: str | None) -> dict[str, float]:
    args = [sys.executable, __file__, "--child", str(folder)]
    if online_url:
        args += ["--online-url", online_url]
    out = subprocess.run(args, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def reads(folder: Path, online_url: str | None, count: int) -> dict[str, float]:
    from shipyard.features import get_online_features

    project = _project(folder, online_url)
    rng = np.random.default_rng(1)
    at = "2024-03-01T00:00:00"
    for key in rng.integers(0, ENTITIES, 200).tolist():  # warm-up
        get_online_features(project, [{"entity_id": key}], "usage10", at=at)  # type: ignore[arg-type]
    # As the inference server does after loading: the long-lived objects leave the cyclic
    # collector's generations, so a full collection does not walk the libraries' objects.
    gc.collect()
    gc.freeze()
    wall, cpu = [], []
    try:
        for key in rng.integers(0, ENTITIES, count).tolist():
            t0, c0 = time.perf_counter(), time.thread_time()
            get_online_features(project, [{"entity_id": key}], "usage10", at=at)  # type: ignore[arg-type]
            cpu.append(time.thread_time() - c0)
            wall.append(time.perf_counter() - t0)
    finally:
        gc.unfreeze()
    ms, cpu_ms = np.array(wall) * 1000, np.array(cpu) * 1000
    return {
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "cpu_p50_ms": float(np.percentile(cpu_ms, 50)),
        "cpu_p99_ms": float(np.percentile(cpu_ms, 99)),
    }


def streaming(folder: Path, online_url: str | None, events: int) -> dict[str, float]:
    """Events per second through ``push``, 5,000 per batch: with the offline log append, and
    online only (the same run minus the time spent appending to the log)."""
    import shipyard.features._push as push_module
    from shipyard.features import push

    logging = [0.0]
    append = push_module.append_log

    def timed_append(*args: object) -> int:
        t0 = time.perf_counter()
        try:
            return append(*args)  # type: ignore[arg-type]
        finally:
            logging[0] += time.perf_counter() - t0

    project = _project(folder, online_url)
    rng = np.random.default_rng(2)
    start = np.datetime64("2024-03-01T00:00:00", "us")
    batch = 5_000
    frames = []
    for i in range(0, events, batch):
        ts = start + (np.arange(batch) + i).astype("timedelta64[ms]")
        columns = {"entity_id": rng.integers(0, ENTITIES, batch), "event_timestamp": ts}
        columns |= {f: rng.random(batch) for f in FEATURES}
        frames.append(pa.table(columns))
    push(project, "usage10", frames[0])  # type: ignore[arg-type]  # warm-up: connections
    push_module.append_log = timed_append  # type: ignore[assignment]
    try:
        started, cpu = time.perf_counter(), time.process_time()
        for frame in frames[1:]:
            push(project, "usage10", frame)  # type: ignore[arg-type]
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        push_module.append_log = append
    n = batch * (len(frames) - 1)
    return {"with_log": n / seconds, "online": n / (seconds - logging[0]), "cpu": n / cpu}


def feast(folder: Path, count: int) -> dict[str, float] | str:
    from _peer_venv import peer_python

    try:
        python = peer_python("feast", ["feast==0.47.0"])
        script = Path(__file__).resolve().parent / "_feast_online.py"
        out = subprocess.run(
            [str(python), str(script), str(folder), str(count)],
            check=True,
            capture_output=True,
            text=True,
        )
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (subprocess.CalledProcessError, OSError, ValueError) as exc:
        err = getattr(exc, "stderr", "") or str(exc)
        return f"failed: {err.strip().splitlines()[-1] if err.strip() else exc}"


def _pair(read: dict[str, float]) -> str:
    return f"{read['cpu_p50_ms']:.3f}/{read['cpu_p99_ms']:.3f}"


def _stream_rows(stream: dict[str, float], backend: str) -> list[tuple[str, str, str]]:
    return [
        (f"streaming, events/s online only ({backend})", f"{stream['online']:,.0f}", "-"),
        (f"streaming, events/s with log ({backend})", f"{stream['with_log']:,.0f}", "-"),
        (f"streaming, events/CPU-s with log ({backend})", f"{stream['cpu']:,.0f}", "-"),
    ]


def _print(rows: list[tuple[str, str, str]]) -> None:
    print(f"| {'figure':<46} | {'Shipyard':>14} | {'Feast 0.47':>14} |")
    print(f"|{'-' * 48}|{'-' * 16}|{'-' * 16}|")
    for name, ours, theirs in rows:
        print(f"| {name:<46} | {ours:>14} | {theirs:>14} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--reads", type=int, default=5_000)
    parser.add_argument("--stream-events", type=int, default=200_000)
    parser.add_argument("--skip-feast", action="store_true")
    parser.add_argument("--child", type=Path)
    parser.add_argument("--online-url")
    parser.add_argument("--data", type=Path, help="reuse (or make) the data in this folder")
    args = parser.parse_args()
    if args.child:
        child_materialize(args.child, args.online_url)
        return
    redis_url = os.environ.get("SHIPYARD_TEST_REDIS_URL")
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.data or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "project").exists():
            generate(folder, args.rows)
            setup(folder)
        # A reused folder starts from the same events: drop what earlier runs pushed.
        shutil.rmtree(folder / "project" / ".shipyard" / "feature_log", ignore_errors=True)
        load = os.getloadavg()
        mat = run_materialize(folder, None)
        read = reads(folder, None, args.reads)
        stream = streaming(folder, None, args.stream_events)
        rows = [
            ("materialize, seconds", f"{mat['seconds']:.2f}", ""),
            ("materialize, peak RSS MB", f"{mat['peak_mb']:.0f}", ""),
            ("online read 1x10 p50 ms (SQLite)", f"{read['p50_ms']:.3f}", ""),
            ("online read 1x10 p99 ms (SQLite)", f"{read['p99_ms']:.3f}", ""),
            ("materialize, CPU seconds (all threads)", f"{mat['cpu_s']:.2f}", "-"),
            ("online read 1x10 CPU p50/p99 ms (SQLite)", _pair(read), "-"),
            *_stream_rows(stream, "SQLite"),
        ]
        if redis_url:
            url = f"{redis_url}?prefix=bench-{os.getpid()}:"
            rmat = run_materialize(folder, url)
            rread = reads(folder, url, args.reads)
            rstream = streaming(folder, url, args.stream_events)
            rows += [
                ("materialize into Redis, seconds", f"{rmat['seconds']:.2f}", "-"),
                ("materialize into Redis, CPU seconds", f"{rmat['cpu_s']:.2f}", "-"),
                ("online read 1x10 p50 ms (Redis)", f"{rread['p50_ms']:.3f}", "-"),
                ("online read 1x10 p99 ms (Redis)", f"{rread['p99_ms']:.3f}", "-"),
                ("online read 1x10 CPU p50/p99 ms (Redis)", _pair(rread), "-"),
                *_stream_rows(rstream, "Redis"),
            ]
            from shipyard.online import open_online_store

            with open_online_store(url) as store:
                store.drop("features/usage10/v1")
                store.drop("features/usage10/v1#meta")
        print(f"load average (1, 5, 15 min) before: {load}, after: {os.getloadavg()}")
        peer = "skipped" if args.skip_feast else feast(folder, args.reads)
        if isinstance(peer, dict):
            rows[0] = (rows[0][0], rows[0][1], f"{peer['materialize_s']:.2f}")
            rows[1] = (rows[1][0], rows[1][1], f"{peer['peak_mb']:.0f}")
            rows[2] = (rows[2][0], rows[2][1], f"{peer['p50_ms']:.3f}")
            rows[3] = (rows[3][0], rows[3][1], f"{peer['p99_ms']:.3f}")
        print(f"{args.rows:,} rows, {ENTITIES:,} entities, 60 days, 10 float features; 2 cores")
        print("Shipyard: 5 column + 5 windowed features (1h/24h/7d); Feast: 10 latest values")
        if isinstance(peer, str):
            print(f"Feast: {peer}")
        _print(rows)


if __name__ == "__main__":
    main()
