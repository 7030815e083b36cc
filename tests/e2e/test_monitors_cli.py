"""Every bad input of the monitors through the real CLI: a message and an exit code, never a
traceback."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from shipyard.ingest import ingest_path
from shipyard.project import init_project
from shipyard.registry import approve_model, load_model, promote
from shipyard.train import train
from tests.e2e.cli import shipyard
from tests.monitor.conftest import HOUR, usage, write_captures

SINCE, UNTIL = HOUR.isoformat(), (HOUR + timedelta(hours=1)).isoformat()


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("monitor-cli")
    project = init_project(root)
    usage(3000, 0).to_parquet(root / "u.parquet")
    ingest_path(project, root / "u.parquet", "usage")
    train(project, "usage", "fraud", model_name="fraud", family="lightgbm")
    approve_model(project, "fraud:1", comment="test fixture")
    promote(project, "fraud:1", "prod")
    rows = write_captures(project, load_model(project, "fraud@prod"), usage(1500, 5, shift=1.0))
    junk = pd.DataFrame({"request_id": ["x1", "x2", "x3"], "fraud": [1, 0, 1]})
    pd.concat([rows.iloc[:100], junk])[["request_id", "fraud"]].to_parquet(root / "l.parquet")
    ingest_path(project, root / "l.parquet", "labels")
    project.close()
    return root


def _fails(proc, *needles: str, code: int = 1) -> None:  # type: ignore[no-untyped-def]
    out = proc.stdout + proc.stderr
    assert proc.returncode == code, out
    assert "Traceback" not in out
    for needle in needles:
        assert needle in out, out


def test_bad_settings_are_messages(root: Path) -> None:
    base = ["monitors", "create", "w", "--model", "fraud@prod"]
    _fails(
        shipyard(root, *base, "--kinds", "drift,atribution", check=False),
        "Did you mean 'attribution'",
    )
    _fails(shipyard(root, *base, "--schedule", "every hour", check=False), "not a cron expression")
    _fails(shipyard(root, *base, "--window", "0h", check=False), "between 1m and 31d")
    _fails(
        shipyard(
            root,
            *base,
            "--labels",
            "labels",
            "--label",
            "fraud",
            "--label-key",
            "nope",
            check=False,
        ),
        "Unknown labels column 'nope'",
    )
    _fails(shipyard(root, "monitors", "run", "nope", check=False), "No monitor named 'nope'")
    _fails(shipyard(root, "alerts", "ack", "abc", check=False), "whole number")
    _fails(shipyard(root, "alerts", "ack", "999", check=False), "No alert with id 999")


def test_a_model_without_baseline_says_how_to_make_one(root: Path, tmp_path: Path) -> None:
    project = init_project(tmp_path / "p")
    usage(600, 1).to_parquet(tmp_path / "u.parquet")
    ingest_path(project, tmp_path / "u.parquet", "u")
    train(project, "u", "fraud", model_name="old", family="lightgbm")
    # A version trained before baselines existed: drop the one training made.
    from shipyard.catalog._tables import reports

    with project.catalog._engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(reports.delete().where(reports.c.kind == "baseline"))
    project.close()
    here = tmp_path / "p"
    _fails(
        shipyard(here, "monitors", "create", "w", "--model", "old:1", check=False),
        "shipyard models baseline old:1 --create",
    )
    made = shipyard(here, "models", "baseline", "old:1", "--create")
    assert "Baseline of old:1" in made.stdout
    shipyard(here, "monitors", "create", "w", "--model", "old:1")


def test_an_empty_window_and_unmatched_labels_are_reported(root: Path) -> None:
    shipyard(
        root,
        "monitors",
        "create",
        "q",
        "--model",
        "fraud@prod",
        "--kinds",
        "model-quality,data-quality",
        "--labels",
        "labels",
        "--label",
        "fraud",
    )
    empty = shipyard(
        root, "monitors", "run", "q", "--since", "2020-01-01T00:00Z", "--until", "2020-01-01T01:00Z"
    )
    assert "No captured rows" in empty.stdout
    proc = shipyard(root, "monitors", "run", "q", "--since", SINCE, "--until", UNTIL, check=False)
    _fails(proc, "100 of 1,500 rows labelled", "3 label(s) match no captured row")
    again = shipyard(root, "monitors", "run", "q", "--since", SINCE, "--until", UNTIL)
    assert "skipped" in again.stdout
    _fails(shipyard(root, "monitors", "run", "q", "--since", "yesterday", check=False), "ISO 8601")
    history = shipyard(root, "monitors", "history", "q")
    assert "violations" in history.stdout and "empty" in history.stdout


def test_a_down_webhook_is_recorded_and_the_run_still_succeeds(root: Path) -> None:
    shipyard(
        root,
        "monitors",
        "create",
        "hook",
        "--model",
        "fraud@prod",
        "--kinds",
        "data-quality",
        "--webhook",
        "http://127.0.0.1:9/down",
        "--webhook-secret-env",
        "HOOK_SECRET",
    )
    proc = shipyard(
        root, "monitors", "run", "hook", "--since", SINCE, "--until", UNTIL, check=False
    )
    _fails(proc, "webhook failed after 4 attempt(s)", "report:")
    listed = shipyard(root, "alerts", "list", "--open", "--monitor", "hook", "--json")
    assert '"webhook"' in listed.stdout and '"failed"' in listed.stdout
