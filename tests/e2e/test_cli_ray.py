"""``shipyard train --backend``: bad input is refused before any data is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.cli import shipyard

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ray-cli")
    shipyard(root, "init")
    return root


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--time-budget", "10", "--backend", "spark"], "must be one of local, ray"),
        (["--backend", "ray"], "give time_budget"),
    ],
)
def test_train_refuses_a_bad_backend(workdir: Path, args, message) -> None:
    proc = shipyard(workdir, "train", "nothing", "--target", "y", *args, check=False)
    assert proc.returncode == 1
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
