"""A tiny project with trained models to serve, built once per test module."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shipyard.ingest import ingest_path
from shipyard.project import Project, init_project
from shipyard.registry import LoadedModel, load_model, promote
from shipyard.serve import ShipyardServeApp, create_app
from shipyard.train import train


def make_frame(rows: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    amount = rng.gamma(2.0, 50.0, rows)
    country = rng.choice(["fr", "de", "us"], rows)
    roaming = rng.random(rows) < 0.4
    noise = rng.normal(0, 0.5, rows)
    risk = amount / 100 + (country == "us") + roaming + noise
    return pd.DataFrame(
        {
            "amount": amount,
            "calls": rng.integers(0, 30, rows),
            "country": country,
            "roaming": roaming,
            "y": (risk > 2).astype(int),
            "tier": np.where(risk > 2.5, "high", np.where(risk > 1.5, "mid", "low")),
            "spend": risk * 10,
        }
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("serve-project")
    project = init_project(root)
    data = root / "d.parquet"
    make_frame().to_parquet(data)
    ingest_path(project, data, "d")
    train(project, "d", "y", model_name="m", exclude=["tier", "spend"])
    promote(project, "m:1", "prod")
    yield project
    project.close()


@pytest.fixture(scope="module")
def loaded(project: Project) -> LoadedModel:
    return load_model(project, "m@prod")


@pytest.fixture(scope="module")
def app(loaded: LoadedModel) -> ShipyardServeApp:
    return create_app(loaded, max_body_bytes=4096, max_rows=20)


@pytest.fixture
def row() -> dict[str, object]:
    return {"amount": 120.5, "calls": 3, "country": "fr", "roaming": True}
