"""Multi-model serving: 50 model versions behind one ``shipyard serve --multi``, 10 in memory.

    .venv/bin/python benchmarks/multimodel.py [--versions 50] [--working-set 10]

Trains five real models on scikit-learn's breast-cancer table (30 numbers, 569 rows), one per
family (LightGBM, XGBoost, random forest, extra trees, linear), and registers 50 versions of
them under 10 names (each version a bundle of its own, verified and unpickled on load). Then,
on loopback, one client at a time (httpx, keep-alive):

* **first request**: one single-row ``/models/{ref}/invocations`` to each of the 50 versions
  in turn, on a server holding at most ``--working-set`` of them: each one loads (verify,
  unpickle, set up its app) and, past 10, unloads the least recently used;
* **warm**: 2,000 single-row requests cycling through a working set of 10 versions (after
  one request each has loaded them): no load may happen in that phase;
* the same 2,000 requests against ``shipyard serve`` of one of them, for the routing cost;
* the server's RSS growth while the working set loads (once one version of each family has
  loaded, so the libraries are in), against the footprints the server counts (each
  ``model.pkl``'s size).

Not a test: it prints figures, with the machine's load average, and gates nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil
from sklearn.datasets import load_breast_cancer

from shipyard.ingest import ingest_path
from shipyard.project import Project, init_project
from shipyard.registry import load_model, register_model
from shipyard.train import train

FAMILIES = ("lightgbm", "xgboost", "random_forest", "extra_trees", "linear")
WARM_REQUESTS = 2_000


def make_project(root: Path, versions: int) -> tuple[Project, list[str], dict[str, Any]]:
    """Train one model per family, register ``versions`` versions of them; return the
    project, the refs (name:version) with their family, and one raw row."""
    frame = load_breast_cancer(as_frame=True).frame
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    project = init_project(root)
    frame.to_parquet(root / "bc.parquet")
    ingest_path(project, root / "bc.parquet", "bc")
    models = []
    for family in FAMILIES:
        start = time.perf_counter()
        result = train(project, "bc", "target", model_name=f"trained_{family}", family=family)
        models.append(load_model(project, result.model_version.ref).model)
        print(f"  trained {family} in {time.perf_counter() - start:.1f} s", flush=True)
    refs = []
    for i in range(versions):
        version = register_model(
            project, f"bc{i % 10}", models[i % len(models)], run_id=None, metrics={}, lineage={}
        )
        refs.append(f"{version.ref}={FAMILIES[i % len(models)]}")
    row = frame.drop(columns=["target"]).iloc[0].to_dict()
    return project, refs, {k: float(v) for k, v in row.items()}


@contextmanager
def server(root: Path, *args: str) -> Iterator[tuple[str, int]]:
    """``shipyard serve ARGS --port 0`` in a process; yields its URL and pid."""
    command = [sys.executable, "-m", "shipyard", "-C", str(root), "serve", *args, "--port", "0"]
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        match = re.search(r"on (http://\S+) ", line)
        if not match:
            raise RuntimeError(
                f"the server did not start: {line}{proc.stderr.read() if proc.stderr else ''}"
            )
        yield match.group(1), proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def timed_post(client: httpx.Client, path: str, body: Any) -> float:
    start = time.perf_counter()
    response = client.post(path, json=body)
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
    return elapsed * 1e3


def percentiles(ms: list[float]) -> str:
    return f"p50 {np.percentile(ms, 50):7.2f} ms   p95 {np.percentile(ms, 95):7.2f} ms   " + (
        f"p99 {np.percentile(ms, 99):7.2f} ms"
    )


def run(versions: int, working_set: int) -> None:
    print(f"load average before: {os.getloadavg()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        project, tagged, row = make_project(root, versions)
        project.close()
        refs = [t.split("=")[0] for t in tagged]
        family = dict(t.split("=") for t in tagged)
        hot = refs[:working_set]
        figures = measure_multi(root, refs, hot, [row])
        figures.update(measure_rss(root, refs, hot, [row]))
        with server(root, hot[0]) as (url, _), httpx.Client(base_url=url, timeout=60) as client:
            timed_post(client, "/invocations", [row])
            single = [timed_post(client, "/invocations", [row]) for _ in range(WARM_REQUESTS)]
    report(versions, working_set, hot[0], family, figures, single)


def measure_multi(root: Path, refs: list[str], hot: list[str], body: Any) -> dict[str, Any]:
    """First requests to every version, then the warm cycle through the working set."""
    with server(root, "--multi", "--max-models", str(len(hot))) as (url, pid):
        rss = psutil.Process(pid)
        with httpx.Client(base_url=url, timeout=60) as client:
            before = rss.memory_info().rss
            first = {ref: timed_post(client, f"/models/{ref}/invocations", body) for ref in refs}
            for ref in hot:  # the last versions are loaded now; load the working set
                timed_post(client, f"/models/{ref}/invocations", body)
            loads_before = _loads(client)
            warm = {ref: [] for ref in hot}
            for i in range(WARM_REQUESTS):
                ref = hot[i % len(hot)]
                warm[ref].append(timed_post(client, f"/models/{ref}/invocations", body))
            return {
                "first": first,
                "warm": warm,
                "warm_loads": _loads(client) - loads_before,
                "listed": client.get("/models").json(),
                "rss": (before, rss.memory_info().rss),
            }


def measure_rss(root: Path, refs: list[str], hot: list[str], body: Any) -> dict[str, Any]:
    """RSS growth of a server while the working set loads, and the footprint it counts.

    One version of each family loads first, so the growth is the models' and not that of
    importing LightGBM, XGBoost and scikit-learn.
    """
    warm = refs[len(hot) : len(hot) + len(FAMILIES)]
    with server(root, "--multi", "--max-models", str(len(hot) + len(warm))) as (url, pid):
        process = psutil.Process(pid)
        with httpx.Client(base_url=url, timeout=60) as client:
            for ref in warm:
                timed_post(client, f"/models/{ref}/invocations", body)
            before = client.get("/models").json()["bytes"]
            empty = process.memory_info().rss
            for ref in hot:
                timed_post(client, f"/models/{ref}/invocations", body)
            grown = process.memory_info().rss - empty
            return {"grown": grown, "footprint": client.get("/models").json()["bytes"] - before}


def report(
    versions: int,
    working_set: int,
    one: str,
    family: dict[str, str],
    figures: dict[str, Any],
    single: list[float],
) -> None:
    first, listed = figures["first"], figures["listed"]
    print()
    print(f"{versions} versions ({len(FAMILIES)} families), working set {working_set}, one client")
    print(f"first request (load + score), all {versions}:  {percentiles(list(first.values()))}")
    for fam in FAMILIES:
        ms = [v for k, v in first.items() if family[k] == fam]
        print(f"  {fam:<14} ({len(ms):2d} versions):      {percentiles(ms)}")
    warm = figures["warm"]
    every = [ms for times in warm.values() for ms in times]
    print(f"warm, cycling through {working_set}:             {percentiles(every)}")
    for fam in FAMILIES:
        ms = [m for k, times in warm.items() if family[k] == fam for m in times]
        print(f"  {fam:<14} ({len(ms):4d} requests):     {percentiles(ms)}")
    print(f"one model, `shipyard serve {one}` ({family[one]}): {percentiles(single)}")
    print(f"loads during the warm phase: {figures['warm_loads']:g} (must be 0)")
    mib = 2**20
    print(
        f"loaded after the warm phase: {len(listed['loaded'])} versions, "
        f"{listed['bytes'] / mib:.1f} MiB of footprint"
    )
    grown, footprint = figures["grown"], figures["footprint"]
    print(
        f"RSS growth loading the working set (libraries loaded): {grown / mib:.1f} MiB for "
        f"{footprint / mib:.1f} MiB of counted footprint (ratio {grown / footprint:.2f})"
    )
    before, after = figures["rss"]
    print(f"server RSS over the first run: {before / mib:.0f} -> {after / mib:.0f} MiB")
    print(f"load average after: {os.getloadavg()}")


def _loads(client: httpx.Client) -> float:
    text = client.get("/metrics").text
    match = re.search(r"^shipyard_multi_model_loads_total (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=50)
    parser.add_argument("--working-set", type=int, default=10)
    args = parser.parse_args()
    run(args.versions, args.working_set)


if __name__ == "__main__":
    main()
