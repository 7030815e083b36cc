"""The real CLI against hostile SQL, output paths and altered files (issue 8)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.e2e.cli import shipyard


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project holding ``loans@1``: a NaN, an infinity and a list column among its values."""
    root = tmp_path_factory.mktemp("sqlhard")
    pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "income": [100.0, np.nan, np.inf, 40.0],
            "tags": [[1, 2], [3], [], [4, 5]],
        }
    ).to_parquet(root / "loans.parquet", index=False)
    shipyard(root, "init")
    shipyard(root, "ingest", str(root / "loans.parquet"), "--name", "loans")
    return root


def _strict(text: str) -> object:
    def refuse(name: str) -> object:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def _refused(proc, match: str) -> None:  # type: ignore[no-untyped-def]
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert match in " ".join(proc.stderr.split())


def _version_folder(workdir: Path, name: str) -> Path:
    (folder,) = (workdir / ".shipyard" / "lake" / name).iterdir()
    return folder


@pytest.mark.parametrize("command", ["sql", "ingest"])
def test_explain_analyze_copy_into_the_lake_is_refused(workdir: Path, command: str) -> None:
    target = _version_folder(workdir, "loans") / "part-9.parquet"
    exploit = (
        'EXPLAIN ANALYZE COPY (SELECT * REPLACE (1000000 AS income) FROM "loans@1" LIMIT 5) '
        f"TO '{target}' (FORMAT parquet)"
    )
    args = ["sql", exploit] if command == "sql" else ["ingest", "--sql", exploit, "-n", "x"]
    _refused(shipyard(workdir, *args, check=False), "Only a plain EXPLAIN is allowed")
    assert not target.exists()
    assert "loans@1" in shipyard(workdir, "datasets", "verify", "loans").stdout


@pytest.mark.parametrize(
    ("sql", "match"),
    [
        ("WITH w AS (COPY (SELECT 1) TO '{out}/x.csv') SELECT 1", "holds a COPY inside it"),
        ("SELECT * FROM read_csv('/etc/passwd')", "read only this project's datasets"),
        ("SELECT 1; SELECT 2", "exactly one SQL statement"),
    ],
)
def test_hostile_sql_is_a_message(workdir: Path, tmp_path: Path, sql: str, match: str) -> None:
    _refused(shipyard(workdir, "sql", sql.format(out=tmp_path), check=False), match)
    assert list(tmp_path.iterdir()) == []


def test_json_output_is_strict(workdir: Path) -> None:
    rows = _strict(
        shipyard(
            workdir, "sql", "SELECT *, DATE '2024-01-02' AS d FROM loans ORDER BY id", "--json"
        ).stdout
    )
    assert rows == [
        {"id": 1, "income": 100.0, "tags": [1, 2], "d": "2024-01-02"},
        {"id": 2, "income": None, "tags": [3], "d": "2024-01-02"},
        {"id": 3, "income": None, "tags": [], "d": "2024-01-02"},
        {"id": 4, "income": 40.0, "tags": [4, 5], "d": "2024-01-02"},
    ]
    shown = _strict(shipyard(workdir, "datasets", "show", "loans", "--json").stdout)
    assert shown["sample"][2] == {"id": 3, "income": None, "tags": []}  # type: ignore[index]


def test_sql_out_writes_only_where_it_may(workdir: Path, tmp_path: Path) -> None:
    query = "SELECT id, income FROM loans ORDER BY id"
    missing = tmp_path / "no" / "such" / "out.csv"
    _refused(shipyard(workdir, "sql", query, "--out", str(missing), check=False), "does not exist")
    inside = workdir / ".shipyard" / "lake" / "loans" / "out.parquet"
    _refused(shipyard(workdir, "sql", query, "--out", str(inside), check=False), ".shipyard")
    assert not inside.exists()
    out = tmp_path / "out.csv"
    assert "Wrote 4 rows" in shipyard(workdir, "sql", query, "--out", str(out)).stdout
    assert pd.read_csv(out)["id"].tolist() == [1, 2, 3, 4]


def test_verify_reports_a_version_changed_on_disk(workdir: Path) -> None:
    shipyard(workdir, "ingest", "--sql", "SELECT id, income FROM loans", "--name", "victim")
    assert "All 2 version(s) match" in shipyard(workdir, "datasets", "verify").stdout
    folder = _version_folder(workdir, "victim")
    pd.DataFrame({"id": [9], "income": [1.0]}).to_parquet(folder / "part-9.parquet", index=False)
    proc = shipyard(workdir, "datasets", "verify", check=False)
    _refused(proc, "1 of 2 dataset version(s) no longer match their fingerprint: victim@1")
    assert "4 rows recorded, 5 found" in " ".join(proc.stderr.split())
    listing = _strict(shipyard(workdir, "datasets", "verify", "--json", check=False).stdout)
    assert {c["ref"]: c["status"] for c in listing} == {  # type: ignore[union-attr]
        "loans@1": "ok",
        "victim@1": "changed",
    }
    (folder / "part-9.parquet").unlink()


def test_sql_ingest_obeys_constraints(workdir: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n- {column: income, rule: completeness, min: 1.0}\n")
    proc = shipyard(
        workdir,
        "ingest",
        "--sql",
        "SELECT id, income FROM loans",
        "--name",
        "checked",
        "--constraints",
        str(rules),
        check=False,
    )
    _refused(proc, "breaks 1 data-quality rule(s)")
    assert "checked" not in shipyard(workdir, "datasets", "list").stdout
