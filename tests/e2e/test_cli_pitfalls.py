"""shipyard pitfalls and shipyard compare through the real CLI: a readable table, strict
JSON, exit codes, errors without a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.cli import shipyard
from tests.pitfalls.planted import leaky

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("e2e-pitfalls")
    shipyard(root, "init")
    leaky(seed=0).to_parquet(root / "a.parquet")
    shifted = leaky(seed=1)
    shifted["x"] += 1.5
    shifted.to_parquet(root / "b.parquet")
    shipyard(root, "ingest", str(root / "a.parquet"), "--name", "loans")
    shipyard(root, "ingest", str(root / "b.parquet"), "--name", "later")
    shipyard(root, "train", "loans", "--target", "label", "-m", "fraud")
    return root


def test_pitfalls_of_a_model_print_one_readable_table(workdir: Path) -> None:
    out = shipyard(workdir, "pitfalls", "fraud", columns=80).stdout
    assert out.startswith("Pitfalls of model fraud:1:")
    assert "A column that leaks" in out and "An untuned model" in out
    assert max(len(line) for line in out.splitlines()) <= 80
    report = json.loads(shipyard(workdir, "pitfalls", "fraud", "--json").stdout)
    assert {c["status"] for c in report["checks"]} <= {"ok", "warning", "not checked"}


def test_pitfalls_of_a_dataset_and_compare(workdir: Path) -> None:
    out = shipyard(workdir, "pitfalls", "loans@1", "--target", "label").stdout
    assert "warning" in out and "far better" in out
    same = shipyard(workdir, "compare", "loans", "loans", "--json")
    assert json.loads(same.stdout)["status"] == "ok"
    moved = shipyard(workdir, "compare", "loans", "later", check=False)
    assert moved.returncode == 1 and "x" in moved.stdout


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("pitfalls", "nothing"), id="unknown-name"),
        pytest.param(("pitfalls", "fraud:1", "--target", "label"), id="dataset-option-on-model"),
        pytest.param(("compare", "loans", "nothing"), id="unknown-dataset"),
        pytest.param(("compare", "loans", "later", "--max-rows", "3"), id="too-few-rows"),
    ],
)
def test_mistakes_are_messages_not_tracebacks(workdir: Path, args: tuple[str, ...]) -> None:
    proc = shipyard(workdir, *args, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "Error" in proc.stderr
