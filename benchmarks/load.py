"""Load: 100,000 requests at concurrency 16 on the inference server with capture on.

    .venv/bin/python benchmarks/load.py [--requests 100000] [--concurrency 16]

Trains a small LightGBM model, starts ``shipyard serve m@prod --capture 100`` in its own
process, and sends single-row ``POST /v1/predict`` requests over keep-alive connections from
``--concurrency`` asyncio clients (a minimal HTTP/1.1 client, so the load generator costs less
CPU than the server on the shared cores). It samples the server's resident memory (psutil)
every 5,000 requests and prints: errors (non-200 answers and broken connections), requests
per second, and the resident memory after the first 10,000 requests against the last sample.
Targets: zero errors, growth under 10%.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

from shipyard.ingest import ingest_path
from shipyard.project import init_project
from shipyard.registry import approve_model, promote
from shipyard.serve import find_free_port, wait_until_ready
from shipyard.train import TrainSpec, train

SAMPLE_EVERY = 5_000


def make_model(root: Path) -> dict[str, object]:
    """A project with ``m@prod`` (LightGBM on 6 columns); returns one request row."""
    rng = np.random.default_rng(0)
    n = 5_000
    frame = pd.DataFrame(rng.normal(size=(n, 4)), columns=["a", "b", "c", "d"])
    frame["country"] = rng.choice(["fr", "de", "es", "it"], n)
    frame["roaming"] = rng.random(n) < 0.3
    frame["y"] = (frame["a"] + frame["roaming"] + rng.normal(scale=0.5, size=n) > 0.5).astype(int)
    frame.to_parquet(root / "train.parquet")
    with init_project(root) as project:
        ingest_path(project, root / "train.parquet", "train")
        result = train(project, "train", "y", TrainSpec.of(family="lightgbm", model_name="m"))
        approve_model(project, result.model_version.ref, comment="benchmark")
        promote(project, result.model_version.ref, "prod")
    return {"a": 0.1, "b": -1.2, "c": 0.4, "d": 2.0, "country": "fr", "roaming": True}


class Load:
    """Counts shared by the clients, and the memory samples."""

    def __init__(self, total: int, server: psutil.Process) -> None:
        self.total = total
        self.sent = 0
        self.done = 0
        self.errors: dict[str, int] = {}
        self.server = server
        self.samples: list[tuple[int, int]] = []

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def finished(self) -> None:
        self.done += 1
        if self.done % SAMPLE_EVERY == 0:
            self.samples.append((self.done, self.server.memory_info().rss))


async def client(port: int, request: bytes, load: Load) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while load.sent < load.total:
            load.sent += 1
            writer.write(request)
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                load.error("connection closed")
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                load.finished()
                continue
            status = int(head[9:12])
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            if status != 200:
                load.error(f"HTTP {status}")
            load.finished()
    finally:
        writer.close()


async def drive(
    port: int, row: dict[str, object], total: int, concurrency: int, server: psutil.Process
) -> tuple[Load, float]:
    body = json.dumps({"rows": [row]}).encode()
    request = (
        b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    load = Load(total, server)
    started = time.perf_counter()
    await asyncio.gather(*(client(port, request, load) for _ in range(concurrency)))
    return load, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shipyard-load-") as tmp:
        root = Path(tmp)
        row = make_model(root)
        port = find_free_port()
        env = {k: v for k, v in os.environ.items() if k != "SHIPYARD_HOME"}
        command = [
            sys.executable,
            "-m",
            "shipyard",
            "serve",
            "m@prod",
            "--port",
            str(port),
            "--capture",
            "100",
        ]
        proc = subprocess.Popen(
            command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        try:
            wait_until_ready(proc, f"http://127.0.0.1:{port}/ping", timeout=180)
            server = psutil.Process(proc.pid)
            load, seconds = asyncio.run(drive(port, row, args.requests, args.concurrency, server))
            alive = proc.poll() is None
        finally:
            proc.terminate()
            proc.wait(timeout=60)
        captured = sum(
            1 for _ in (root / ".shipyard" / "artifacts" / "captures").rglob("*.parquet")
        )
        report(load, seconds, args, alive, captured)


def report(load: Load, seconds: float, args: argparse.Namespace, alive: bool, files: int) -> None:
    mib = {n: rss / 2**20 for n, rss in load.samples}
    first = mib.get(10_000) or next(iter(mib.values()))
    last = mib[max(mib)]
    growth = (last - first) / first * 100
    errors = sum(load.errors.values())
    print(
        f"\nLoad on `shipyard serve m@prod --capture 100`: {args.requests:,} single-row "
        f"POST /v1/predict, concurrency {args.concurrency}, loopback, 2 shared cores\n"
    )
    print(
        "| requests | errors | req/s | RSS after 10k (MiB) | RSS at end (MiB) | growth | "
        "server up | capture files |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {load.done:,} | {errors} | {load.done / seconds:,.0f} | {first:.1f} | {last:.1f} "
        f"| {growth:+.1f}% | {'yes' if alive else 'NO'} | {files} |"
    )
    if load.errors:
        print("errors:", load.errors)
    print("\nRSS every 5,000 requests (MiB):", ", ".join(f"{v:.0f}" for v in mib.values()))
    verdict = errors == 0 and growth < 10 and alive
    print(
        f"\n{'PASS' if verdict else 'FAIL'}: zero errors and growth under 10% "
        f"from the first 10,000 requests to the last"
    )
    sys.exit(0 if verdict else 1)


if __name__ == "__main__":
    main()
