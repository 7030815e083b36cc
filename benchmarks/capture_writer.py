"""The capture writer's own cost per row, in-process: what the background thread spends.

    uv run python benchmarks/capture_writer.py [--rows 20000] [--repeat 5]

Feeds a :class:`CaptureWriter` single-row ``/v1/predict`` requests of the serve benchmark's
shape (20 inputs: 16 numbers, 2 strings, a flag, an integer) exactly as the inference
server hands them over, then times ``flush()`` (re-parse, Arrow, Parquet, publish) and the
request-path ``add()``. Each figure is the best of ``--repeat`` rounds: the machine is shared,
and the best round is the one least disturbed. The peer is the writer of ``main`` when
``--baseline`` points to a checkout of it (run with that checkout's ``src`` on the path).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson

from shipyard.artifacts import FsspecArtifactStore
from shipyard.capture import CaptureWriter

SIGNATURE = {
    "inputs": [
        *({"name": f"f{i}", "type": "number"} for i in range(16)),
        {"name": "country", "type": "string"},
        {"name": "plan", "type": "string"},
        {"name": "roaming", "type": "boolean"},
        {"name": "calls", "type": "number"},
    ]
}


def bodies(n: int) -> list[bytes]:
    rng = np.random.default_rng(7)
    values = rng.normal(size=(n, 16))
    countries = rng.choice(["fr", "de", "es", "it", "us", "jp", "br", "in"], n)
    calls = rng.integers(0, 200, n)
    out = []
    for i in range(n):
        row = {f"f{j}": float(values[i, j]) for j in range(16)}
        row |= {"country": str(countries[i]), "plan": "prepaid", "roaming": bool(i % 3)}
        row["calls"] = int(calls[i])
        out.append(orjson.dumps({"rows": [row]}))
    return out


def feed(writer: CaptureWriter, payloads: list[bytes]) -> float:
    """Add every payload as the server does; returns the seconds spent in add()."""
    from shipyard.capture import JsonRows  # type: ignore[attr-defined]

    scores = np.array([0.25])
    labels = np.array([0], dtype=object)
    start = time.perf_counter()
    for i, body in enumerate(payloads):
        writer.add(f"req-{i}", JsonRows(body, "rows"), scores, lambda: labels, 0.4, count=1)
    return time.perf_counter() - start


def feed_main(writer: CaptureWriter, payloads: list[bytes]) -> float:
    """As ``feed``, with the hand-over of the server on main (a closure that re-parses)."""
    from functools import partial

    from shipyard.serve._parse import load_json, rows_from_predict

    def parse(body: bytes, media: bytes) -> list:
        return rows_from_predict(load_json(body))

    scores = np.array([0.25])
    labels = np.array([0], dtype=object)
    start = time.perf_counter()
    for i, body in enumerate(payloads):
        writer.add(
            f"req-{i}", partial(parse, body, b"application/json"), scores, labels, 0.4, count=1
        )
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    payloads = bodies(args.rows)
    import shipyard.capture

    fill, label = (
        (feed, "bulk JSON") if hasattr(shipyard.capture, "JsonRows") else (feed_main, "main")
    )
    adds, flushes, cpus = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        store = FsspecArtifactStore(str(Path(tmp) / "artifacts"))
        for _ in range(args.repeat):
            writer = CaptureWriter(
                store,
                "fraud",
                1,
                SIGNATURE,
                max_buffer_rows=10**7,
                flush_rows=10**7,
                flush_seconds=3600,
            )
            adds.append(fill(writer, payloads))
            start, cpu = time.perf_counter(), time.thread_time()
            assert writer.flush() == args.rows
            flushes.append(time.perf_counter() - start)
            cpus.append(time.thread_time() - cpu)
            writer.close()
        size = sum(f.stat().st_size for f in Path(tmp).rglob("*.parquet")) / args.repeat
    n = args.rows
    print(
        f"capture writer ({label}), {n:,} single-row requests, best of {args.repeat}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"  add() on the request path: {min(adds) / n * 1e6:6.2f} us/row")
    print(f"  flush() wall:              {min(flushes) / n * 1e6:6.2f} us/row")
    print(f"  flush() CPU of the thread: {min(cpus) / n * 1e6:6.2f} us/row")
    print(f"  file size:                 {size / n:6.1f} bytes/row")
    return 0


if __name__ == "__main__":
    sys.exit(main())
