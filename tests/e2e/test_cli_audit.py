"""`shipyard audit verify` and `export` through the real CLI: a tampered trail exits 1."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from tests.e2e.cli import shipyard

pytestmark = pytest.mark.e2e


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shipyard(tmp_path, "init")
    for n in (2, 3):
        pd.DataFrame({"a": range(n)}).to_csv(tmp_path / f"t{n}.csv", index=False)
        shipyard(tmp_path, "ingest", f"t{n}.csv", "--name", "t")
    return tmp_path


def test_an_intact_trail_verifies_and_exports_as_json_lines(workdir: Path) -> None:
    proc = shipyard(workdir, "audit", "verify")
    assert "Audit chain intact: 6 events" in proc.stdout  # each change, and each CLI call
    shipyard(workdir, "audit", "export", "--out", "trail.jsonl")
    lines = [json.loads(x) for x in (workdir / "trail.jsonl").read_text().splitlines()]
    assert [e["action"] for e in lines] == [
        "project.init", "cli.call", "dataset.create", "cli.call", "dataset.create", "cli.call"
    ]  # fmt: skip
    assert [e["object_id"] for e in lines if e["action"] == "cli.call"] == ["init", *["ingest"] * 2]
    assert lines[1]["prev_hash"] == lines[0]["hash"]
    assert json.loads(shipyard(workdir, "audit", "--json", "--limit", "1").stdout)[0]["id"] == 6


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("UPDATE audit_events SET actor = 'mallory' WHERE id = 2", "at event 2 (position 2)"),
        ("DELETE FROM audit_events WHERE id = 2", "an event before it was deleted"),
        ("DELETE FROM audit_events WHERE id = 6", "cut off the end"),
    ],
    ids=["edited", "deleted", "truncated"],
)
def test_a_tampered_trail_fails_verify_and_says_where(
    workdir: Path, statement: str, message: str
) -> None:
    with sqlite3.connect(workdir / ".shipyard" / "catalog.db") as db:
        db.execute(statement)
    proc = shipyard(workdir, "audit", "verify", check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "Audit chain broken" in proc.stderr and message in proc.stderr


def test_export_to_a_missing_folder_is_a_clear_error(workdir: Path) -> None:
    proc = shipyard(workdir, "audit", "export", "--out", "nowhere/trail.jsonl", check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "does not exist" in proc.stderr
