"""Every error a user can cause is a message and exit 1, never a traceback (issue 8's list)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.e2e.cli import shipyard

pytestmark = pytest.mark.e2e


def _tables(folder: Path) -> dict[str, pa.Table]:
    """A tiny scoring table, a table of odd column types, and one holding +-1e308."""
    rng = np.random.default_rng(8)
    n = 120
    x = rng.normal(size=n)
    small = pa.table(
        {
            "x": x,
            "plan": [["prepaid", "postpaid"][i % 2] for i in range(n)],
            "y": (x + rng.normal(size=n) > 0).astype(np.int64),
        }
    )
    odd = pa.table(
        {
            "nested": [{"a": i % 3, "b": "q"} for i in range(n)],
            "tags": [[i % 2, 1] for i in range(n)],
            "signup_date": pd.date_range("2026-01-01", periods=n, freq="D"),
            "x": x,
            "y": small["y"],
        }
    )
    return {"small": small, "odd": odd}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("e2e-errors")
    shipyard(root, "init")
    for name, data in _tables(root).items():
        pq.write_table(data, root / f"{name}.parquet")
        shipyard(root, "ingest", str(root / f"{name}.parquet"), "--name", name)
    shipyard(root, "train", "small", "--target", "y")
    (root / "a-file").write_text("not a folder")
    return root


# Each case: the arguments ({root} is the project folder) and a phrase of the message.
CASES = [
    # profile on ±1e308 now profiles (tests/e2e/test_cli_profile_extremes.py).
    pytest.param(
        ["bias", "odd", "--label", "y", "--positive", "1", "--facet", "nested"],
        "facet column 'nested' has type struct",
        id="bias-struct-facet",
    ),
    pytest.param(
        ["bias", "odd", "--label", "y", "--positive", "1", "--facet", "tags"],
        "facet column 'tags' has type list",
        id="bias-list-facet",
    ),
    pytest.param(
        ["bias", "odd", "--label", "nested", "--positive", "1", "--facet", "x"],
        "label column 'nested' has type struct",
        id="bias-struct-label",
    ),
    pytest.param(
        ["train", "odd", "--target", "signup_date"],
        "signup_date",
        id="train-timestamp-target",
    ),
    pytest.param(
        ["datasets", "show", "small@99999999999999999999999"],
        "from 1 to 2,147,483,647",
        id="dataset-version-overflow",
    ),
    pytest.param(
        ["models", "show", "small:99999999999999999999999"],
        "from 1 to 2,147,483,647",
        id="model-version-overflow",
    ),
    pytest.param(
        ["batch", "small:1", "--input", "small", "--output", "scored", "--batch-rows", "-5"],
        "'batch_rows' parameter of batch_transform must be a whole number from 1",
        id="batch-rows-negative",
    ),
    pytest.param(
        ["batch", "small:1", "--input", "small", "--output", "scored", "--batch-rows", "0"],
        "Got 0 instead",
        id="batch-rows-zero",
    ),
    pytest.param(
        ["profile", "small", "--html", "{root}/nope/p.html"],
        "nope for --html does not exist; create it first",
        id="profile-html-missing-folder",
    ),
    pytest.param(
        ["models", "report", "small:1", "--html", "{root}/nope/r.html"],
        "nope for --html does not exist; create it first",
        id="models-report-html-missing-folder",
    ),
    pytest.param(
        ["constraints", "suggest", "small", "--out", "{root}/nope/rules.yaml"],
        "nope for --out does not exist; create it first",
        id="constraints-out-missing-folder",
    ),
    pytest.param(
        ["sql", "SELECT 1 AS one", "--out", "{root}/nope/one.csv"],
        "nope",
        id="sql-out-missing-folder",
    ),
    pytest.param(
        ["datasets", "show", "[/]"],
        "'[/]' is not a dataset reference",
        id="markup-in-a-message",
    ),
    pytest.param(
        # /proc/nope in the issue: a folder under a regular file cannot be made either, on any OS.
        ["init", "{root}/a-file/project"],
        "Could not make a project in",
        id="init-uncreatable-folder",
    ),
]


@pytest.mark.parametrize(("args", "message"), CASES)
def test_user_errors_are_messages_not_tracebacks(
    workdir: Path, args: list[str], message: str
) -> None:
    proc = shipyard(workdir, *(a.format(root=workdir) for a in args), check=False)
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output, output
    assert proc.returncode == 1, output
    assert "Error (" in proc.stderr and message in proc.stderr, output
