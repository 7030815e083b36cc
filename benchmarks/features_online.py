"""Online feature store benchmark: materialize, online read, streaming; beside Feast.

    .venv/bin/python benchmarks/features_online.py                       # 5M rows
    .venv/bin/python benchmarks/features_online.py --rows 500000 --skip-feast
    SHIPYARD_TEST_REDIS_URL=redis://127.0.0.1:6379/12 .venv/bin/python benchmarks/...

Data: the offline benchmark's generator (``--rows`` rows, 200k entities, 60 days, 10 float
features). Our group has 10 features: 5 latest column values and 5 windowed aggregates (1h,
24h, 7d), so a read computes windows at request time. Figures: materialize time and peak RSS
(in a child process), online read of 1 entity x 10 features p50/p99 in process (embedded
SQLite and Redis), streaming ``push`` throughput (online state + offline log, batches of
5,000), and Feast 0.47 materializing the 10 plain features into SQLite + its online read.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "events": report.events}))


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
    times = []
    for key in rng.integers(0, ENTITIES, count).tolist():
        t0 = time.perf_counter()
        get_online_features(project, [{"entity_id": key}], "usage10", at=at)  # type: ignore[arg-type]
        times.append(time.perf_counter() - t0)
    ms = np.array(times) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99))}


def streaming(folder: Path, online_url: str | None, events: int) -> float:
    """Events per second through ``push`` (online state + offline log), 5,000 per batch."""
    from shipyard.features import push

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
    started = time.perf_counter()
    for frame in frames:
        push(project, "usage10", frame)  # type: ignore[arg-type]
    return events / (time.perf_counter() - started)


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


def _print(rows: list[tuple[str, str, str]]) -> None:
    print(f"| {'figure':<44} | {'Shipyard':>14} | {'Feast 0.47':>14} |")
    print(f"|{'-' * 46}|{'-' * 16}|{'-' * 16}|")
    for name, ours, theirs in rows:
        print(f"| {name:<44} | {ours:>14} | {theirs:>14} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--reads", type=int, default=5_000)
    parser.add_argument("--stream-events", type=int, default=200_000)
    parser.add_argument("--skip-feast", action="store_true")
    parser.add_argument("--child", type=Path)
    parser.add_argument("--online-url")
    args = parser.parse_args()
    if args.child:
        child_materialize(args.child, args.online_url)
        return
    redis_url = os.environ.get("SHIPYARD_TEST_REDIS_URL")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        generate(folder, args.rows)
        setup(folder)
        mat = run_materialize(folder, None)
        read = reads(folder, None, args.reads)
        stream = streaming(folder, None, args.stream_events)
        rows = [
            ("materialize, seconds", f"{mat['seconds']:.2f}", ""),
            ("materialize, peak RSS MB", f"{mat['peak_mb']:.0f}", ""),
            ("online read 1x10 p50 ms (SQLite)", f"{read['p50_ms']:.3f}", ""),
            ("online read 1x10 p99 ms (SQLite)", f"{read['p99_ms']:.3f}", ""),
            ("streaming push, events/s (SQLite)", f"{stream:,.0f}", "-"),
        ]
        if redis_url:
            url = f"{redis_url}?prefix=bench-{os.getpid()}:"
            rmat = run_materialize(folder, url)
            rread = reads(folder, url, args.reads)
            rstream = streaming(folder, url, args.stream_events)
            rows += [
                ("materialize into Redis, seconds", f"{rmat['seconds']:.2f}", "-"),
                ("online read 1x10 p50 ms (Redis)", f"{rread['p50_ms']:.3f}", "-"),
                ("online read 1x10 p99 ms (Redis)", f"{rread['p99_ms']:.3f}", "-"),
                ("streaming push, events/s (Redis)", f"{rstream:,.0f}", "-"),
            ]
            from shipyard.online import open_online_store

            with open_online_store(url) as store:
                store.drop("features/usage10/v1")
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
