"""Shared fixtures: a seeded generator, a fresh project, a small labelled table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shipyard.project import Project, init_project


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(42)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    monkeypatch.delenv("SHIPYARD_HOME", raising=False)
    proj, _ = init_project(tmp_path / "proj")
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
