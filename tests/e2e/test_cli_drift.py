"""shipyard drift through the real CLI: exit codes, JSON, HTML, and every bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.e2e.cli import shipyard

pytestmark = pytest.mark.e2e


def _table(n: int, seed: int, shift: float = 0.0) -> pa.Table:
    rng = np.random.default_rng(seed)
    levels = np.array(["roam", "home", "abroad"])
    return pa.table(
        {
            "bytes_per_session": rng.lognormal(3, 1, n) * np.exp(shift),
            "minutes": rng.gamma(2, 4, n),
            "partner": levels[rng.choice(3, n, p=[0.6, 0.3, 0.1])],
        }
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("e2e-drift")
    shipyard(root, "init")
    for name, table in (
        ("january", _table(5000, 1)),
        ("february", _table(5000, 2)),
        ("march", _table(5000, 3, shift=0.5)),
        ("other", pa.table({"something": np.arange(10)})),
    ):
        pq.write_table(table, root / f"{name}.parquet")
        shipyard(root, "ingest", str(root / f"{name}.parquet"), "--name", name)
    return root


def test_no_drift_exits_0_with_a_table_that_fits_80_columns(workdir: Path) -> None:
    proc = shipyard(workdir, "drift", "january", "february", columns=80)
    assert proc.returncode == 0
    assert "0 of 3 columns drifted" in proc.stdout
    assert all(len(line) <= 80 for line in proc.stdout.splitlines())


def test_drift_exits_1_and_names_the_column(workdir: Path, tmp_path: Path) -> None:
    html = tmp_path / "drift.html"
    proc = shipyard(workdir, "drift", "january", "march@1", "--html", str(html), check=False)
    assert proc.returncode == 1, proc.stderr
    assert "bytes_per_session" in proc.stdout and "DRIFT" in proc.stdout
    assert html.read_text().startswith("<!DOCTYPE html>")


def test_json_is_strict_and_columns_narrow_the_comparison(workdir: Path) -> None:
    proc = shipyard(workdir, "drift", "january", "march", "--columns", "minutes,partner", "--json")
    report = json.loads(proc.stdout)
    assert [c["column"] for c in report["columns"]] == ["minutes", "partner"]
    assert report["n_drifted"] == 0 and report["correction"] == "holm"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("januray", "march"), "Did you mean 'january'"),
        (("january", "march@7"), "has no version 7"),
        (("january", "march", "--columns", "minuts"), "Did you mean 'minutes'"),
        (("january", "other"), "no column in common"),
        (("january", "march", "--columns", ","), "is empty"),
        (("january", "bad name!"), "not a dataset reference"),
    ],
    ids=["unknown-dataset", "unknown-version", "unknown-column", "no-common", "empty-columns",
         "bad-ref"],
)  # fmt: skip
def test_bad_input_is_a_message_not_a_traceback(
    workdir: Path, args: tuple[str, ...], message: str
) -> None:
    proc = shipyard(workdir, "drift", *args, check=False)
    assert proc.returncode == 1
    assert message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
