"""`shipyard train` with a time budget: its ceiling, and why a family or the ensemble is
missing from the leaderboard."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.conftest import learnable_frame
from tests.e2e.cli import shipyard


def test_train_refuses_an_endless_budget_and_says_why_the_ensemble_is_missing(
    tmp_path: Path,
) -> None:
    learnable_frame(np.random.default_rng(0), 400, "binary").to_csv(tmp_path / "d.csv")
    shipyard(tmp_path, "init")
    shipyard(tmp_path, "ingest", "d.csv", "--name", "d")
    endless = shipyard(
        tmp_path, "train", "d", "--target", "label", "--time-budget", "1e308", check=False
    )
    assert endless.returncode == 1
    assert "maximum of 604,800 s (7 days)" in endless.stderr
    assert "Traceback" not in endless.stderr + endless.stdout
    trained = shipyard(
        tmp_path, "train", "d", "--target", "label", "--time-budget", "8", "--families", "linear"
    )
    assert "ensemble: " in trained.stdout  # built, or not and why
    assert "Traceback" not in trained.stderr
