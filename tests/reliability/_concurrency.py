"""Concurrent writers: several processes ingest into one dataset, train one model and promote
it, all at once, then the project is checked for errors, lost and duplicate versions.

A worker is a separate Python process (``python -m tests.reliability._concurrency ROOT
INDEX ROUNDS``) that waits for a start file, so that all of them begin their writes at the
same moment after their imports; it prints one JSON line per write it saw succeed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from shipyard.ingest import ingest_path
from shipyard.project import Project, init_project, open_project
from shipyard.registry import promote
from shipyard.settings import load_settings
from shipyard.train import TrainSpec, train
from tests.reliability._consistency import check_project
from tests.reliability._crash import training_frame, ungated

__all__ = ["Verdict", "run_writers"]

DATASET, MODEL = "shared", "m"
ENVIRONMENTS = ("dev", "staging", "prod")


@dataclass
class Verdict:
    """What the writers did and what the project holds afterwards."""

    processes: int
    rounds: int
    writes: int = 0
    errors: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    inconsistencies: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _worker(root: Path, index: int, rounds: int) -> int:
    start = root / "start"
    with open_project(root) as project:
        while not start.exists():
            time.sleep(0.01)
        for r in range(rounds):
            try:
                path = root / f"in-{index}-{r}.parquet"
                training_frame(seed=1000 * index + r, rows=600).to_parquet(path)
                v = ingest_path(project, path, DATASET).version
                print(json.dumps({"dataset": v.ref, "fingerprint": v.fingerprint}), flush=True)
                spec = TrainSpec.of(family="linear", seed=r, model_name=MODEL)
                m = train(project, v.ref, "y", spec).model_version
                print(json.dumps({"model": m.ref}), flush=True)
                env = ENVIRONMENTS[(index + r) % len(ENVIRONMENTS)]
                promote(project, m.ref, env)
                print(json.dumps({"promoted": m.ref, "to": env}), flush=True)
            except Exception:  # reported to the parent, which fails the run
                print(json.dumps({"error": traceback.format_exc()}), flush=True)
                return 1
    return 0


def run_writers(
    root: Path, processes: int = 4, rounds: int = 1, catalog_url: str | None = None
) -> Verdict:
    """``processes`` workers of ``rounds`` ingest-train-promote each, on one project."""
    verdict = Verdict(processes, rounds)
    env = {k: v for k, v in os.environ.items() if k != "SHIPYARD_HOME"}
    if catalog_url is not None:
        env["SHIPYARD_CATALOG_URL"] = catalog_url
    repo = Path(__file__).resolve().parents[2]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo), env.get("PYTHONPATH")]))
    init_project(root).close()
    ungated(root)
    started = time.monotonic()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.reliability._concurrency",
                str(root),
                str(i),
                str(rounds),
            ],
            env=env,
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(processes)
    ]
    time.sleep(0.5)
    (root / "start").touch()
    reports = []
    for i, proc in enumerate(procs):
        out, err = proc.communicate(timeout=1800)
        lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        reports += lines
        verdict.errors += [f"worker {i}: {x['error']}" for x in lines if "error" in x]
        if proc.returncode != 0 and not any("error" in x for x in lines):
            verdict.errors.append(f"worker {i} exited {proc.returncode}: {err[-500:]}")
    verdict.seconds = time.monotonic() - started
    verdict.writes = len([x for x in reports if "error" not in x])
    with _open(root, catalog_url) as project:
        _judge(project, reports, verdict)
    return verdict


def _open(root: Path, catalog_url: str | None) -> Project:
    return Project(root, settings=load_settings(root, catalog_url=catalog_url))


def _judge(project: Project, reports: list[dict[str, str]], verdict: Verdict) -> None:
    datasets = project.catalog.list_dataset_versions(DATASET)
    models = project.catalog.list_model_versions(MODEL)
    expected = verdict.processes * verdict.rounds
    for kind, numbers in (
        ("dataset", [d.version for d in datasets]),
        ("model", [m.version for m in models]),
    ):
        if len(set(numbers)) != len(numbers):
            verdict.duplicates.append(f"{kind} numbers {sorted(numbers)} repeat")
        if sorted(numbers) != list(range(1, expected + 1)) and not verdict.errors:
            verdict.lost.append(f"{kind} numbers are {sorted(numbers)}, not 1..{expected}")
    fingerprints = {d.ref: d.fingerprint for d in datasets}
    ready = {m.ref for m in models}
    for x in reports:
        if "dataset" in x and fingerprints.get(x["dataset"]) != x["fingerprint"]:
            verdict.lost.append(f"dataset {x['dataset']} was reported, the catalog differs")
        if "model" in x and x["model"] not in ready:
            verdict.lost.append(f"model {x['model']} was reported, the catalog lacks it")
    promoted = {(x["to"], x["promoted"]) for x in reports if "promoted" in x}
    for m in models:
        for alias in m.aliases:
            if (alias, m.ref) not in promoted:
                verdict.lost.append(f"{MODEL}@{alias} names {m.ref}, which no one promoted there")
    verdict.inconsistencies += check_project(project)


if __name__ == "__main__":
    sys.exit(_worker(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))
