"""What the rooms' Studio pages need beyond ``benchmarks/api.py``'s catalog, for
``benchmarks/studio.py``: a real dataset (100,000 rows x 30 columns, profiled), 300 feature
groups, 150 endpoints, 300 monitor runs with a drift report of 30 columns, and 60 pipelines
with 1,000 runs of one. Written through the catalog's and rooms' own functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from shipyard.project import Project

T0 = datetime(2026, 1, 1, tzinfo=UTC)
STEPS = ("ingest", "profile", "train", "register")


def seed_rooms(project: Project, folder: Path, pipeline_runs: int = 1_000) -> dict[str, str]:
    """Seed them; returns the ids the detail pages need (``pipeline_run``)."""
    _dataset(project, folder)
    _features(project)
    _endpoints(project)
    _monitor_runs(project)
    return {"pipeline_run": _pipelines(project, pipeline_runs)}


def _dataset(project: Project, folder: Path) -> None:
    from shipyard.analyze import profile_dataset
    from shipyard.ingest import ingest_path

    rng = np.random.default_rng(0)
    n = 100_000
    frame = pd.DataFrame({f"c{j}": rng.normal(size=n) for j in range(27)})
    frame["id"] = np.arange(n) % 5_000
    frame["plan"] = rng.choice(["a", "b", "c"], size=n)
    frame["ts"] = pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(np.arange(n), "min")
    path = folder / "real.parquet"
    frame.to_parquet(path)
    ingest_path(project, path, "real")
    profile_dataset(project, "real@1")


def _features(project: Project) -> None:
    definitions = [("entity", "account", {"name": "account", "keys": ["id"]})]
    for i in range(300):
        group = {
            "name": f"usage-{i}", "entity": "account", "source": "real", "event_time": "ts",
            "features": [{"name": f"c{j}", "column": f"c{j}"} for j in range(10)],
        }  # fmt: skip
        definitions.append(("group", f"usage-{i}", group))
    project.catalog.apply_feature_definitions(definitions, actor=project.actor)


def _endpoints(project: Project) -> None:
    for i in range(150):
        model = f"model-{i % 100}@prod"
        config = {
            "variants": [{"name": model, "model": model, "weight": 100}], "shadow": None,
            "capture": 10.0, "sticky_key": None, "guardrail": None, "rollback_on": {},
        }  # fmt: skip
        env = "prod" if i % 5 else "dev"
        project.catalog.create_endpoint(
            env, f"scorer-{i}", config=config, state={"phase": "live"}, actor=project.actor
        )


def _monitor_runs(project: Project) -> None:
    rng = np.random.default_rng(1)
    for i in range(300):
        start = T0 + timedelta(hours=i)
        columns = [
            {"column": f"c{j}", "distance": float(rng.random() / 5), "drifted": bool(j == i % 30),
             "test": "psi"}
            for j in range(30)
        ]  # fmt: skip
        report = {
            "summary": f"{i % 3} violations", "rows": 5_000,
            "sections": [{"kind": "drift", "report": {"columns": columns}}],
        }  # fmt: skip
        project.catalog.record_monitor_run(
            "fraud-watch", window_start=start, window_end=start + timedelta(hours=1),
            status="violations" if i % 3 else "ok", report=report, html_uri=None, alerts=[],
            actor=project.actor,
        )  # fmt: skip


def _pipelines(project: Project, n_runs: int) -> str:
    steps = [{"name": s, "kind": "profile", "config": {"dataset": "real@1"}} for s in STEPS]
    for i in range(60):
        definition = {"name": f"flow-{i}", "parameters": {}, "steps": steps}
        project.catalog.register_pipeline(
            f"flow-{i}", definition=definition, source=None, actor=project.actor
        )
    last = ""
    for i in range(n_runs):
        run = project.catalog.create_pipeline_run(
            "flow-7", version=1, params={"seed": i}, steps=list(STEPS), trigger="schedule",
            resumed_from=None, actor=project.actor,
        )  # fmt: skip
        for step in STEPS:
            project.catalog.update_pipeline_step(
                run.id, step, status="finished", started_at=T0, ended_at=T0, logs="done",
                actor=project.actor,
            )  # fmt: skip
        project.catalog.finish_pipeline_run(run.id, status="finished", actor=project.actor)
        last = run.id
    return last
