"""The REST API at scale: first pages with 10,000 runs and 1,000 model versions, then a load run.

    .venv/bin/python benchmarks/api.py [--runs 10000] [--versions 1000]
                                       [--requests 100000] [--concurrency 16]

1. Seeds a fresh project's catalog (SQLite) with ``--runs`` runs in 20 experiments (params,
   metrics and tags shaped like AutoML trials), ``--versions`` model versions over 100 models
   with aliases, 200 dataset versions, 2,000 alerts and 10,000 audit events. The rows are
   written in bulk with SQLAlchemy (seeding through the catalog's API, one transaction and
   one chained audit event each, would take minutes and measure nothing of the API).
2. Times the first page (50 items) of every list route server-side, in process through the
   whole ASGI stack (token check, routing, the catalog query, JSON), median of 20 calls after
   a warm-up, and page 100 of the runs via cursors. Target: under 300 ms each.
3. Starts ``shipyard server`` in its own process and sends ``--requests`` GET requests over
   keep-alive connections from ``--concurrency`` asyncio clients, round-robin over the read
   routes (a minimal HTTP/1.1 client, as benchmarks/load.py). Samples the server's resident
   memory every 5,000 requests and prints errors, requests per second, and the memory after
   the first 10,000 requests against the last sample. Target: zero errors, growth < 10%.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import httpx
import numpy as np
import psutil

from shipyard.catalog._tables import (
    alerts,
    audit_events,
    dataset_versions,
    model_aliases,
    model_versions,
    monitors,
    runs,
)
from shipyard.project import Project, init_project
from shipyard.security import create_token
from shipyard.serve import find_free_port, wait_until_ready
from shipyard.server import create_app

SAMPLE_EVERY = 5_000
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def seed(project: Project, n_runs: int, n_versions: int) -> None:
    rng = np.random.default_rng(0)
    families = ["lightgbm", "xgboost", "catboost", "logistic", "random_forest"]
    run_rows = [
        {
            "id": uuid.uuid4().hex,
            "experiment": f"model-{i % 20}",
            "name": f"trial-{i}-{families[i % 5]}",
            "status": "finished" if i % 50 else "failed",
            "params": {"family": families[i % 5], "learning_rate": float(rng.random()),
                       "num_leaves": int(rng.integers(8, 256)), "min_child_samples": 20},
            "metrics": {"valid_score": float(rng.random()), "fit_seconds": float(rng.random() * 9),
                        "best_iteration": float(rng.integers(10, 500))},
            "tags": {"kind": "trial", "parent_run": f"{i // 100:032x}", "trial": i},
            "inputs": {"dataset": f"usage@{1 + i % 5}", "target": "is_fraud"},
            "outputs": {"outcome": "kept"},
            "created_by": "bench",
            "started_at": T0 + timedelta(seconds=i),
            "ended_at": T0 + timedelta(seconds=i + 3),
        }
        for i in range(n_runs)
    ]  # fmt: skip
    version_rows = [
        {
            "name": f"model-{i % 100}",
            "version": 1 + i // 100,
            "run_id": run_rows[i % n_runs]["id"],
            "bundle_uri": f"models/model-{i % 100}/{uuid.uuid4().hex}",
            "problem_type": "binary",
            "signature": {"inputs": [{"name": f"f{j}", "type": "number"} for j in range(20)]},
            "metrics": {"test": {"roc_auc": float(rng.random())}},
            "lineage": {"dataset": f"usage@{1 + i % 5}", "run": run_rows[i % n_runs]["id"]},
            "created_by": "bench",
            "created_at": T0 + timedelta(minutes=i),
            "status": "ready",
        }
        for i in range(n_versions)
    ]
    latest = {r["name"]: r["version"] for r in version_rows}
    alias_rows = [
        {"name": name, "alias": alias, "version": max(1, v - k), "updated_by": "bench",
         "updated_at": T0}
        for name, v in latest.items()
        for k, alias in enumerate(("prod", "staging"))
    ]  # fmt: skip
    data_rows = [
        {"name": f"table-{i % 40}", "version": 1 + i // 40, "fingerprint": f"{i:064x}",
         "columns": [{"name": f"c{j}", "type": "DOUBLE"} for j in range(30)],
         "num_rows": 100_000 + i, "num_bytes": 8_000_000, "source": "csv:/data/x.csv",
         "location": f"table-{i % 40}/{i:064x}", "created_by": "bench",
         "created_at": T0 + timedelta(hours=i)}
        for i in range(200)
    ]  # fmt: skip
    monitor_row = {
        "name": "fraud-watch", "model": "model-1@prod", "kinds": ["drift"], "schedule": None,
        "window_seconds": 3600, "labels": {}, "action": None, "webhook": {},
        "created_by": "bench", "created_at": T0,
    }  # fmt: skip
    alert_rows = [
        {"monitor": "fraud-watch", "window_start": T0 + timedelta(hours=i),
         "window_end": T0 + timedelta(hours=i + 1), "severity": ("warning", "error")[i % 2],
         "kind": "drift", "violation": "baseline_drift_check",
         "evidence": {"column": f"c{i % 30}", "psi": float(rng.random())},
         "status": "open" if i % 3 else "acked", "notified": {}, "created_at": T0}
        for i in range(2_000)
    ]  # fmt: skip
    event_rows = [
        {"at": T0 + timedelta(seconds=i), "actor": f"user-{i % 7}", "action": "model.alias",
         "object_type": "model", "object_id": f"model-{i % 100}:1", "face": "api",
         "details": {"alias": "prod"}, "address": "10.0.0.1"}
        for i in range(10_000)
    ]  # fmt: skip
    with project.catalog._engine.begin() as conn:  # type: ignore[attr-defined]
        for table, rows in [
            (runs, run_rows),
            (model_versions, version_rows),
            (model_aliases, alias_rows),
            (dataset_versions, data_rows),
            (monitors, [monitor_row]),
            (alerts, alert_rows),
            (audit_events, event_rows),
        ]:
            conn.execute(table.insert(), rows)


LIST_ROUTES = [
    "/api/v1/runs",
    "/api/v1/runs?experiment=model-7",
    "/api/v1/runs?sort=metrics.valid_score",
    "/api/v1/runs?experiment=model-7&sort=metrics.valid_score",
    "/api/v1/experiments",
    "/api/v1/models",
    "/api/v1/models/model-7/versions",
    "/api/v1/datasets",
    "/api/v1/datasets/table-3/versions",
    "/api/v1/monitors",
    "/api/v1/alerts",
    "/api/v1/alerts?status=open&sort=severity",
    "/api/v1/audit",
    "/api/v1/audit?actor=user-3&action=model.",
    "/api/v1/features/groups",
]


def time_first_pages(project: Project, token: str) -> list[tuple[str, float, int]]:
    app = create_app(project)
    headers = {"Authorization": f"Bearer {token}"}

    async def measure() -> list[tuple[str, float, int]]:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        out = []
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            for path in LIST_ROUTES:
                await client.get(path, headers=headers)  # warm-up
                times, size = [], 0
                for _ in range(20):
                    started = time.perf_counter()
                    answer = await client.get(path, headers=headers)
                    times.append((time.perf_counter() - started) * 1000)
                    assert answer.status_code == 200, answer.text
                    size = len(answer.json()["items"])
                out.append((path, statistics.median(times), size))
            out.append(await deep_page(client, headers))
        return out

    return anyio.run(measure)


async def deep_page(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[str, float, int]:
    """Page 100 of the runs, reached through 99 cursors; the time of that last page."""
    cursor = None
    for _ in range(99):
        page = (await client.get("/api/v1/runs", params={"cursor": cursor} if cursor else {},
                                 headers=headers)).json()  # fmt: skip
        cursor = page["next_cursor"]
    times = []
    for _ in range(20):
        started = time.perf_counter()
        answer = await client.get("/api/v1/runs", params={"cursor": cursor}, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
    return (
        "/api/v1/runs (page 100, by cursor)",
        statistics.median(times),
        len(answer.json()["items"]),
    )


READ_ROUTES = [
    "/api/v1/runs?limit=20",
    "/api/v1/models",
    "/api/v1/models/model-7/versions/3",
    "/api/v1/datasets?limit=20",
    "/api/v1/experiments",
    "/api/v1/alerts?status=open&limit=20",
    "/api/v1/models/model-7/aliases/prod",
    "/api/v1/runs?experiment=model-3&limit=10",
]


class Load:
    def __init__(self, total: int, server: psutil.Process) -> None:
        self.total, self.sent, self.done = total, 0, 0
        self.errors: dict[str, int] = {}
        self.server = server
        self.samples: list[tuple[int, int]] = []
        self.every = min(SAMPLE_EVERY, max(total // 10, 1))

    def finished(self, status: int | None) -> None:
        if status != 200:
            kind = f"HTTP {status}" if status else "connection closed"
            self.errors[kind] = self.errors.get(kind, 0) + 1
        self.done += 1
        if self.done % self.every == 0:
            self.samples.append((self.done, self.server.memory_info().rss))


async def client(port: int, requests: list[bytes], load: Load) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while load.sent < load.total:
            request = requests[load.sent % len(requests)]
            load.sent += 1
            writer.write(request)
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                load.finished(None)
                continue
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            load.finished(int(head[9:12]))
    finally:
        writer.close()


def load_run(root: Path, token: str, total: int, concurrency: int) -> tuple[Load, float, bool]:
    port = find_free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "shipyard", "server", "--port", str(port)],
        cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_until_ready(proc, f"http://127.0.0.1:{port}/healthz", timeout=180)
        requests = [
            (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             f"Authorization: Bearer {token}\r\n\r\n").encode()
            for path in READ_ROUTES
        ]  # fmt: skip
        load = Load(total, psutil.Process(proc.pid))
        started = time.perf_counter()

        async def drive() -> None:
            await asyncio.gather(*(client(port, requests, load) for _ in range(concurrency)))

        asyncio.run(drive())
        seconds = time.perf_counter() - started
        return load, seconds, proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--versions", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shipyard-api-") as tmp:
        root = Path(tmp)
        with init_project(root) as project:
            started = time.perf_counter()
            seed(project, args.runs, args.versions)
            print(f"seeded {args.runs:,} runs and {args.versions:,} model versions in "
                  f"{time.perf_counter() - started:.1f} s")  # fmt: skip
            token = create_token(project, "bench", role="admin", env="all").token
            pages = time_first_pages(project, token)
        report_pages(pages, args)
        if args.requests:
            load, seconds, alive = load_run(root, token, args.requests, args.concurrency)
            report_load(load, seconds, alive, args)


def report_pages(pages: list[tuple[str, float, int]], args: argparse.Namespace) -> None:
    print(
        "\nFirst page (50 items) of each list route, server-side in process, median of 20; "
        f"{args.runs:,} runs, {args.versions:,} model versions, SQLite, 2 shared cores\n"
    )
    print("| route | ms | items |")
    print("|---|---|---|")
    for path, ms, size in pages:
        print(f"| `{path}` | {ms:.1f} | {size} |")
    worst = max(ms for _, ms, _ in pages)
    print(f"\n{'PASS' if worst < 300 else 'FAIL'}: slowest {worst:.1f} ms (target < 300 ms)")


def report_load(load: Load, seconds: float, alive: bool, args: argparse.Namespace) -> None:
    mib = {n: rss / 2**20 for n, rss in load.samples}
    first = mib.get(10_000) or mib[min(mib)]
    last = mib[max(mib)]
    growth = (last - first) / first * 100
    errors = sum(load.errors.values())
    print(
        f"\nLoad on `shipyard server`: {args.requests:,} GETs round-robin over "
        f"{len(READ_ROUTES)} read routes, concurrency {args.concurrency}, loopback\n"
    )
    print("| requests | errors | req/s | RSS after 10k (MiB) | RSS at end (MiB) | growth | up |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {load.done:,} | {errors} | {load.done / seconds:,.0f} | {first:.1f} | {last:.1f} "
          f"| {growth:+.1f}% | {'yes' if alive else 'NO'} |")  # fmt: skip
    if load.errors:
        print("errors:", load.errors)
    print(
        f"\nRSS every {load.every:,} requests (MiB):", ", ".join(f"{v:.0f}" for v in mib.values())
    )
    verdict = errors == 0 and growth < 10 and alive
    print(f"\n{'PASS' if verdict else 'FAIL'}: zero errors and growth under 10%")
    sys.exit(0 if verdict else 1)


if __name__ == "__main__":
    main()
