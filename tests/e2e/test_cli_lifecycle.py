"""Drive the real CLI in subprocesses: ingest -> sql -> train -> promote -> serve -> batch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from shipyard.demo import drift_start, training_table_sql
from shipyard.serve import find_free_port, wait_until_ready
from tests.e2e.cli import make_project, shipyard

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("e2e"), subscribers=1500, days=24, seed=3)


def test_lifecycle(workdir: Path) -> None:
    cutoff = drift_start("2026-01-01", 24).isoformat()
    shipyard(workdir, "ingest", "--sql", training_table_sql(until=cutoff), "--name", "training")
    shipyard(workdir, "ingest", "--sql", training_table_sql(since=cutoff), "--name", "later")
    listed = json.loads(shipyard(workdir, "datasets", "list", "--json").stdout)
    assert {d["name"] for d in listed} == {"subscribers", "usage", "labels", "training", "later"}

    rows = json.loads(
        shipyard(workdir, "sql", "SELECT count(*) AS n FROM training", "--json").stdout
    )
    assert rows[0]["n"] > 100

    trained = json.loads(
        shipyard(
            workdir,
            "train",
            "training",
            "--target",
            "is_fraud",
            "--split",
            "time",
            "--time-column",
            "day",
            "--exclude",
            "subscriber_id",
            "-m",
            "fraud",
            "--json",
        ).stdout
    )
    assert trained["model"] == "fraud:1" and trained["metrics"]["test"]["roc_auc"] > 0.6
    refused = shipyard(workdir, "models", "promote", "fraud:1", "--to", "prod", check=False)
    assert refused.returncode == 1 and "PendingManualApproval" in refused.stdout
    assert "Traceback" not in refused.stderr
    shipyard(workdir, "models", "approve", "fraud:1", "--comment", "report reviewed")
    promoted = shipyard(workdir, "models", "promote", "fraud:1", "--to", "prod").stdout
    assert "champion" in promoted and "fraud@prod -> fraud:1" in promoted
    shown = json.loads(shipyard(workdir, "models", "show", "fraud@prod", "--json").stdout)
    assert shown["aliases"] == ["prod"] and shown["lineage"]["dataset"] == "training@1"

    sample = json.loads(
        shipyard(workdir, "sql", "SELECT * EXCLUDE (is_fraud) FROM later LIMIT 2", "--json").stdout
    )
    port = find_free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shipyard",
            "-C",
            str(workdir),
            "serve",
            "fraud@prod",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(server, f"{base}/ping")
        ok = httpx.post(f"{base}/v1/predict", json={"rows": sample}, timeout=10)
        assert ok.status_code == 200, ok.text
        assert len(ok.json()["predictions"]) == 2
        bad = dict(sample[0])
        del bad["data_mb"]
        refused = httpx.post(f"{base}/v1/predict", json={"rows": [bad]}, timeout=10)
        assert refused.status_code == 422 and "data_mb" in refused.json()["message"]
        assert httpx.get(f"{base}/openapi.json", timeout=10).json()["openapi"].startswith("3")
    finally:
        server.terminate()
        server.wait(timeout=20)
        assert server.stderr is not None
        server.stderr.close()

    scored = json.loads(
        shipyard(
            workdir, "batch", "fraud@prod", "--input", "later", "--output", "scored", "--json"
        ).stdout
    )
    assert scored["dataset"]["num_rows"] == len(
        json.loads(
            shipyard(workdir, "sql", "SELECT 1 FROM later", "--json", "--limit", "1000000").stdout
        )
    )
    audit = json.loads(shipyard(workdir, "audit", "--json").stdout)
    actions = {e["action"] for e in audit}
    assert {"dataset.create", "model.register", "model.alias", "serve.start"} <= actions


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ingest", "missing.csv", "--name", "x"], "No file or folder"),
        (["datasets", "show", "usag"], "Did you mean 'usage'"),
        (["sql", "DROP TABLE usage"], "read-only"),
        (["train", "usage", "--target", "nope"], "Unknown column 'nope'"),
        (["models", "show", "fraud@staging"], "staging"),
        (["serve", "ghost@prod"], "No model named 'ghost'"),
    ],
)
def test_errors_exit_non_zero_without_traceback(workdir: Path, args, message) -> None:
    proc = shipyard(workdir, *args, check=False)
    assert proc.returncode == 1
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_outside_a_project_says_how_to_make_one(tmp_path: Path) -> None:
    proc = shipyard(tmp_path, "datasets", "list", check=False)
    assert proc.returncode == 1 and "shipyard init" in proc.stderr
