"""A project for the endpoint tests: model ``m`` in three versions with the same inputs,
``other`` (other inputs) and ``amount`` (a regression), ``m:1`` promoted to prod."""

from __future__ import annotations

from pathlib import Path

from shipyard.ingest import ingest_path
from shipyard.project import Project, init_project
from shipyard.registry import promote
from shipyard.train import train
from tests.conftest import serve_frame

ROW = {"amount": 120.5, "calls": 3, "country": "fr", "roaming": True}


def endpoint_project(root: Path) -> Project:
    """Train the models (about a second each) and return the open project."""
    project = init_project(root)
    # Endpoint tests move prod's alias back and forth between look-alike versions: prod's
    # promotion gates are the registry tests' business (tests/registry/test_gates.py).
    (root / "shipyard.yaml").write_text(
        "environments:\n  prod:\n    gates: {approval: false, diagnostics: false, "
        "baseline: false, champion: false}\n"
    )
    data = root / "d.parquet"
    serve_frame().to_parquet(data)
    ingest_path(project, data, "d")
    for seed in (0, 1, 2):
        train(project, "d", "y", model_name="m", exclude=["tier", "spend"], seed=seed)
    train(project, "d", "y", model_name="other", exclude=["tier", "spend", "calls"])
    train(project, "d", "spend", model_name="amount", exclude=["tier", "y"])
    promote(project, "m:1", "prod")
    return project
