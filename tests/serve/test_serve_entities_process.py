"""Scoring by entity over real HTTP on loopback, and the model's feature refs in the CLI."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pandas as pd
import pytest
from tests.e2e.cli import shipyard
from tests.features._model_data import make_project, usage_events

from shipyard.project import Project
from shipyard.serve import find_free_port, wait_until_ready

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def fs_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    project: Project = make_project(tmp_path_factory.mktemp("fs-http") / "p")
    project.close()
    yield project.root


def test_entity_scoring_over_loopback(fs_root: Path) -> None:
    port = find_free_port()
    command = [
        sys.executable,
        "-c",
        "import sys; from shipyard.project import open_project; "
        "from shipyard.serve import serve_model; "
        "serve_model(open_project(sys.argv[1], face='serve'), 'fs', port=int(sys.argv[2]))",
        str(fs_root),
        str(port),
    ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    at = pd.Timestamp(usage_events()["ts"].max()) + timedelta(hours=1)
    event = {"amount": 12.0, "kind": "roam", "premium": True, "ts": at.isoformat()}
    try:
        wait_until_ready(proc, f"{base}/ping", timeout=180)
        with httpx.Client(base_url=base, timeout=10.0) as client:
            body = {"subscriber_id": "S000003", "event": event}
            first = client.post("/v1/predict?apply=true&features=true", json=body)
            assert first.status_code == 200, first.text
            again = client.post("/v1/predict?apply=true&features=true", json=body).json()
            assert again["features"][0]["count_1h"] == first.json()["features"][0]["count_1h"] + 1
            bad = client.post("/v1/features/usagee/push", json={"rows": [event]})
            assert bad.status_code == 404 and "usage" in bad.json()["message"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stdout.close()  # type: ignore[union-attr]
    # The shutdown wrote the applied events to the offline log.
    parts = list((fs_root / ".shipyard" / "feature_log" / "usage").glob("part-*.parquet"))
    assert len(parts) == 1


def test_models_show_prints_the_feature_refs(fs_root: Path) -> None:
    out = shipyard(fs_root, "models", "show", "fs").stdout
    assert "entity subscriber_id" in out and "time ts" in out
    assert "usage:1" in out and "count_distinct_kind_7d" in out
    assert "inputs from the request: amount, kind, premium" in out
    bad = shipyard(fs_root, "models", "show", "fss", check=False)
    assert bad.returncode == 1 and "Traceback" not in bad.stdout + bad.stderr
