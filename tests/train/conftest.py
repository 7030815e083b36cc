"""Fixtures of the train tests: a seeded generator, a tmp project, small learnable frames."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shipyard.ingest import ingest_path
from shipyard.project import Project, init_project


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    proj, _ = init_project(tmp_path / "proj")
    yield proj
    proj.close()


def make_frame(rng: np.random.Generator, n: int, problem: str) -> pd.DataFrame:
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
    """make_frame bound to the seeded generator."""
    return lambda n, problem: make_frame(rng, n, problem)
