"""Tables at 80 columns: names whole, missing values as a dash, counts as whole numbers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.e2e.cli import shipyard

pytestmark = pytest.mark.e2e

NAME = "subscriber_features_daily"  # long enough that Rich used to cut it to "subscriber_…"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("e2e-tables")
    rng = np.random.default_rng(80)
    x = rng.normal(size=200)
    pd.DataFrame(
        {
            "roaming_minutes_last_7_days": x,
            "plan": [None if i % 4 == 0 else ["prepaid", "postpaid"][i % 2] for i in range(200)],
            "y": (x + rng.normal(size=200) > 0).astype(int),
        }
    ).to_parquet(root / "t.parquet", index=False)
    shipyard(root, "init")
    shipyard(root, "ingest", str(root / "t.parquet"), "--name", NAME)
    shipyard(root, "train", NAME, "--target", "y")
    return root


def _at_80(root: Path, *args: str) -> str:
    out = shipyard(root, *args, columns=80).stdout
    assert "…" not in out, out
    assert max(len(line) for line in out.splitlines()) <= 80, out
    return out


def test_dataset_names_are_never_cut(workdir: Path) -> None:
    assert f"{NAME}@1" in _at_80(workdir, "datasets", "list")
    assert f"{NAME}:1" in _at_80(workdir, "models", "list")
    assert "roaming_minutes_last_7_days" in _at_80(workdir, "profile", NAME)


def test_missing_strings_show_as_a_dash(workdir: Path) -> None:
    out = _at_80(workdir, "datasets", "show", NAME, "--rows", "4")
    sample = out[out.index("Sample") :]
    assert "—" in sample and "nan" not in sample and "None" not in sample, sample
    out = _at_80(workdir, "sql", f"SELECT plan, '[/]' AS markup FROM {NAME} LIMIT 4")
    assert "—" in out and "nan" not in out and "[/]" in out, out


def test_counts_print_as_whole_numbers(workdir: Path) -> None:
    out = _at_80(workdir, "models", "show", f"{NAME}:1")
    rows = next(line for line in out.splitlines() if line.startswith("│ rows"))
    assert rows.split("│")[2].strip() == "30" and ".0000" not in rows, rows


def _cell(out: str, label: str, column: int = 1) -> str:
    """The text of a table cell, its folded lines joined: the row that starts with ``label``."""
    lines = [line.split("│") for line in out.splitlines() if line.startswith("│")]
    first = next(i for i, cells in enumerate(lines) if cells[1].strip() == label)
    end = next((i for i in range(first + 1, len(lines)) if lines[i][1].strip()), len(lines))
    return "".join(cells[column + 1].strip() for cells in lines[first:end])


def test_runs_compare_shows_the_dataset_and_the_split(workdir: Path) -> None:
    run = json.loads(shipyard(workdir, "runs", "list", "--json").stdout)[0]["id"]
    out = _at_80(workdir, "runs", "compare", run, run)
    assert _cell(out, "dataset") == f"{NAME}@1", out
    assert _cell(out, "split").startswith("stratified"), out
    assert "140/30/30" in _cell(out, "split"), out
