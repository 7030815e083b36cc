"""Studio at scale: each page's server-side render time over 10,000 runs and 1,000 versions.

    .venv/bin/python benchmarks/studio.py [--runs 10000] [--versions 1000] [--repeat 10]

Seeds a fresh project's catalog as ``benchmarks/api.py`` does (runs in 20 experiments shaped
like AutoML trials with learning curves for a few, model versions over 100 models with
aliases, alerts, audit events) plus what the other rooms' pages show
(``benchmarks/_studio_rooms.py``: a profiled 100,000-row dataset, feature groups, endpoints,
monitor runs, pipelines and their runs), then requests each Studio page in process through the whole
ASGI stack (the guard reading the session cookie, routing, the room functions, the catalog
queries, Jinja2): the first view of each page (templates compiled, caches cold) and the
median of ``--repeat`` views after it. Target: under 300 ms for a first view. Not a test.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import httpx

from shipyard.catalog.paging import PageQuery
from shipyard.project import Project, init_project
from shipyard.security import create_token
from shipyard.server import create_app
from shipyard.server.studio import create_studio

TARGET_MS = 300.0


def _rooms_seed() -> Any:
    """benchmarks/_studio_rooms.py's ``seed_rooms`` (this folder is no package)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from _studio_rooms import seed_rooms

    return seed_rooms


def _api_benchmark() -> Any:
    """benchmarks/api.py as a module: its ``seed`` makes the same catalog."""
    path = Path(__file__).with_name("api.py")
    spec = importlib.util.spec_from_file_location("shipyard_bench_api", path)
    if spec is None or spec.loader is None:
        sys.exit(f"Cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def add_curves(project: Project, run_ids: list[str], steps: int = 200) -> None:
    """Learning curves (train and valid loss per round) for the runs a page draws."""
    for run_id in run_ids:
        for step in range(steps):
            loss = 0.6 / (1 + step / 10)
            project.catalog.log_metrics(
                run_id, {"train_loss": 0.05 + loss, "valid_loss": 0.12 + loss}, step
            )


def pages(project: Project, pipeline_run: str) -> list[str]:
    runs = project.catalog.page_runs(PageQuery(limit=3, filters={"experiment": "model-7"}))
    ids = [r.id for r in runs.items]
    compare = "&".join(f"ids={i}" for i in ids)
    return [
        "/",
        "/experiments",
        "/experiments/model-7",
        "/experiments/model-7?sort=metrics.valid_score&order=desc",
        "/experiments/model-7?status=failed",
        f"/runs/{ids[0]}",
        f"/runs/compare?{compare}",
        "/models",
        "/models/model-7",
        "/models/model-7/10",
        "/datasets",
        "/datasets/table-3",
        "/datasets/real/1",
        "/datasets/real/1/reports/profile",
        "/features",
        "/features/usage-7",
        "/endpoints",
        "/endpoints?env=prod",
        "/endpoints/prod/scorer-7",
        "/monitors",
        "/monitors/fraud-watch",
        "/pipelines",
        "/pipelines/flow-7",
        f"/pipelines/flow-7/runs/{pipeline_run}",
        "/audit",
        "/audit?action=model.",
        "/login",
    ]


def measure(project: Project, token: str, paths: list[str], repeat: int) -> list[tuple[str, ...]]:
    app = create_app(project, studio=create_studio(project))

    async def run() -> list[tuple[str, ...]]:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        rows = []
        async with httpx.AsyncClient(transport=transport, base_url="http://studio") as client:
            login = await client.post("/login", data={"token": token, "next": "/"})
            assert login.status_code == 303, login.text
            for path in paths:
                started = time.perf_counter()
                first = await client.get(path)
                cold = (time.perf_counter() - started) * 1000
                assert first.status_code == 200, (path, first.status_code, first.text[-500:])
                times = []
                for _ in range(repeat):
                    started = time.perf_counter()
                    await client.get(path)
                    times.append((time.perf_counter() - started) * 1000)
                warm = statistics.median(times)
                verdict = "ok" if cold < TARGET_MS else "SLOW"
                size = f"{len(first.content) / 1024:.0f}"
                rows.append((path, f"{cold:.0f}", f"{warm:.0f}", size, verdict))
        return rows

    return anyio.run(run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--versions", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    api = _api_benchmark()
    seed_rooms = _rooms_seed()
    with (
        tempfile.TemporaryDirectory(prefix="shipyard-studio-") as tmp,
        init_project(Path(tmp)) as project,
    ):
        started = time.perf_counter()
        api.seed(project, args.runs, args.versions)
        seeded = seed_rooms(project, Path(tmp))
        paths = pages(project, seeded["pipeline_run"])
        compare = next(p for p in paths if p.startswith("/runs/compare"))
        add_curves(project, [part[4:] for part in compare.split("?")[1].split("&")])
        print(f"seeded {args.runs:,} runs and {args.versions:,} model versions in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        token = create_token(project, "bench", role="admin", env="all").token
        rows = measure(project, token, paths, args.repeat)
    print(
        f"\nStudio pages, server-side in process (guard, room functions, catalog, Jinja2); "
        f"{args.runs:,} runs, {args.versions:,} model versions, SQLite, 2 shared cores. "
        f"first = the first view (cold), warm = median of {args.repeat}; target < "
        f"{TARGET_MS:.0f} ms first view\n"
    )
    print("| page | first ms | warm ms | KiB | |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(f"| `{row[0]}` | {row[1]} | {row[2]} | {row[3]} | {row[4]} |")


if __name__ == "__main__":
    main()
