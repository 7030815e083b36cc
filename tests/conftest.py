"""The test fixtures, in one place: a seeded generator, a fresh project, small tables."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shipyard.ingest import ingest_path
from shipyard.project import Project, init_project
from shipyard.registry import LoadedModel, approve_model, load_model, promote
from shipyard.serve import ShipyardServeApp, create_app
from shipyard.train import train


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    monkeypatch.delenv("SHIPYARD_HOME", raising=False)
    proj = init_project(tmp_path / "proj")
    with proj:
        yield proj


def make_frame(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    """A binary problem with signal in a number and a category, plus a boolean."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "amount": rng.gamma(2.0, 50.0, n),
            "country": rng.choice(["FR", "DE", "ES", "IT"], n),
            "night": rng.random(n) < 0.3,
            "noise": rng.normal(size=n),
        }
    )
    logit = 0.02 * (frame["amount"] - 100) + 1.5 * (frame["country"] == "FR") - 1.0
    frame["label"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame


@pytest.fixture
def frame() -> pd.DataFrame:
    return make_frame()


@pytest.fixture
def parquet_file(tmp_path: Path, frame: pd.DataFrame) -> Path:
    path = tmp_path / "table.parquet"
    frame.to_parquet(path, index=False)
    return path


def learnable_frame(rng: np.random.Generator, n: int, problem: str) -> pd.DataFrame:
    """Four numbers, a string and a boolean; the target depends on three of them."""
    x = rng.normal(size=(n, 4))
    region = rng.choice(["north", "south", "east", "west"], size=n)
    roaming = rng.random(n) < 0.3
    signal = x[:, 0] + 0.7 * x[:, 1] * (region == "north") + 0.8 * roaming
    frame = pd.DataFrame(
        {
            "x1": x[:, 0],
            "x2": x[:, 1],
            "x3": x[:, 2],
            "x4": np.where(rng.random(n) < 0.1, np.nan, x[:, 3]),
            "region": region,
            "roaming": roaming,
        }
    )
    noisy = signal + rng.normal(scale=0.6, size=n)
    if problem == "binary":
        frame["label"] = (noisy > 0.4).astype(int)
    elif problem == "multiclass":
        frame["label"] = np.array(["low", "mid", "high"])[np.digitize(noisy, [-0.3, 0.9])]
    else:
        frame["label"] = 3.0 * noisy + 10.0
    return frame


@pytest.fixture
def ingest(project: Project, tmp_path: Path) -> Callable[[pd.DataFrame, str], str]:
    def _ingest(frame: pd.DataFrame, name: str = "d") -> str:
        path = tmp_path / f"{name}.parquet"
        frame.to_parquet(path)
        return ingest_path(project, path, name).version.ref

    return _ingest


@pytest.fixture
def frame_of(rng: np.random.Generator) -> Callable[[int, str], pd.DataFrame]:
    """learnable_frame bound to the seeded generator."""
    return lambda n, problem: learnable_frame(rng, n, problem)


@pytest.fixture
def write_parquet(tmp_path: Path) -> Callable[..., list[str]]:
    """Write a table (or dict of columns) as Parquet, optionally split into several files."""

    def write(data: pa.Table | dict, *, files: int = 1, name: str = "part") -> list[str]:
        table = data if isinstance(data, pa.Table) else pa.table(data)
        bounds = np.linspace(0, table.num_rows, files + 1).astype(int)
        paths = []
        for i in range(files):
            path = tmp_path / f"{name}-{i}.parquet"
            pq.write_table(table.slice(bounds[i], bounds[i + 1] - bounds[i]), path)
            paths.append(str(path))
        return paths

    return write


def fixture_training() -> dict[str, Any]:
    """Extra train() arguments for the models the serve and batch fixtures build.

    ``SHIPYARD_TEST_MODEL=cv`` builds them by AutoML on the cross-validated path (a bag
    of fold models), so those suites can be run against one: the default is a single fit.
    """
    if os.environ.get("SHIPYARD_TEST_MODEL") == "cv":
        return {"time_budget": 20, "families": ["lightgbm", "linear"], "max_trials": 4}
    return {}


# The serve tests' model: trained once per module, promoted to prod.
def serve_frame(rows: int = 600, seed: int = 0) -> pd.DataFrame:
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
def served_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("serve-project")
    project = init_project(root)
    data = root / "d.parquet"
    serve_frame().to_parquet(data)
    ingest_path(project, data, "d")
    train(project, "d", "y", model_name="m", exclude=["tier", "spend"], **fixture_training())
    approve_model(project, "m:1", comment="test fixture")
    promote(project, "m:1", "prod")
    yield project
    project.close()


@pytest.fixture(scope="module")
def loaded(served_project: Project) -> LoadedModel:
    return load_model(served_project, "m@prod")


@pytest.fixture(scope="module")
def app(loaded: LoadedModel) -> ShipyardServeApp:
    return create_app(loaded, max_body_bytes=4096, max_rows=20)


@pytest.fixture
def row() -> dict[str, object]:
    return {"amount": 120.5, "calls": 3, "country": "fr", "roaming": True}
