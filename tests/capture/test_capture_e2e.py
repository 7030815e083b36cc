"""Captures end to end: a real server process, a kill, batch transform, and ``shipyard sql``."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pyarrow.parquet as pq
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.conftest import serve_frame
from tests.e2e.cli import shipyard

from shipyard.capture import CaptureWriter
from shipyard.ingest import ingest_path
from shipyard.lake import query
from shipyard.project import Project

pytestmark = pytest.mark.e2e

ROW = {"amount": 120.5, "calls": 3, "country": "fr", "roaming": True}


def start_server(root: Path, *args: str, **env: str) -> tuple[subprocess.Popen[str], str]:
    """``shipyard serve m@prod --port 0 ARGS`` in a subprocess; returns it and its URL."""
    environ = {k: v for k, v in os.environ.items() if k != "SHIPYARD_HOME"}
    environ.update(COLUMNS="200", **env)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shipyard",
            "-C",
            str(root),
            "serve",
            "m@prod",
            "--port",
            "0",
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
    if not match:
        proc.kill()
        raise AssertionError(f"no 'Serving' line: {line!r} {proc.communicate()[1]}")
    return proc, match.group(1)


def sql_count(root: Path, sql: str) -> int:
    rows = json.loads(shipyard(root, "sql", sql, "--json").stdout)
    return int(rows[0]["n"])


@pytest.fixture
def stopped() -> Iterator[list[subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=60)


def test_a_graceful_stop_flushes_captures_that_sql_then_sees(
    served_project: Project, stopped: list[subprocess.Popen[str]]
) -> None:
    root = served_project.root
    # Nothing is written before shutdown: the flush interval and size are far away.
    proc, base = start_server(root, "--capture", "100", SHIPYARD_CAPTURE_FLUSH_SECONDS="3600")
    stopped.append(proc)
    with httpx.Client(base_url=base, timeout=10) as client:
        for i in range(25):
            response = client.post(
                "/v1/predict", json={"rows": [ROW]}, headers={"X-Request-Id": f"graceful-{i}"}
            )
            assert response.headers["x-request-id"] == f"graceful-{i}"
        text = client.get("/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert "shipyard_serve_requests" in families and "shipyard_model_info" in families
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert "Traceback" not in err, err
    n = sql_count(root, "SELECT count(*) AS n FROM capture_m WHERE request_id LIKE 'graceful-%'")
    assert n == 25


def test_a_killed_server_leaves_no_partial_file_visible(
    served_project: Project, stopped: list[subprocess.Popen[str]]
) -> None:
    root = served_project.root
    proc, base = start_server(
        root,
        "--capture",
        "100",
        SHIPYARD_CAPTURE_FLUSH_ROWS="1",
        SHIPYARD_CAPTURE_FLUSH_SECONDS="0.01",
    )
    stopped.append(proc)
    sent = threading.Event()

    def hammer() -> None:
        with httpx.Client(base_url=base, timeout=5) as client:
            for i in range(100_000):
                try:
                    client.post(
                        "/v1/predict",
                        json={"rows": [ROW] * 50},
                        headers={"X-Request-Id": f"killed-{i}"},
                    )
                except httpx.TransportError:
                    return
                if i == 40:
                    sent.set()

    worker = threading.Thread(target=hammer)
    worker.start()
    assert sent.wait(120)
    proc.send_signal(signal.SIGKILL)  # mid-write, most likely: files are written constantly
    proc.communicate(timeout=60)
    worker.join(60)
    files = sorted((root / ".shipyard" / "artifacts" / "captures").rglob("*.parquet"))
    assert files
    for path in files:
        assert pq.read_metadata(path).num_rows > 0  # each one whole
    n = sql_count(root, "SELECT count(*) AS n FROM capture_m WHERE request_id LIKE 'killed-%'")
    assert n == sum(pq.read_metadata(p).num_rows for p in files if "killed" in _ids(p))


def _ids(path: Path) -> str:
    return " ".join(pq.read_table(path, columns=["request_id"]).column(0).to_pylist()[:1])


def test_batch_capture_lands_beside_the_servers(served_project: Project, tmp_path: Path) -> None:
    root = served_project.root
    frame = serve_frame(rows=300, seed=5)
    frame["request_id"] = [f"batch-row-{i}" for i in range(len(frame))]
    frame.to_parquet(tmp_path / "later.parquet")
    ingest_path(served_project, tmp_path / "later.parquet", "later")
    shipyard(root, "batch", "m@prod", "--input", "later", "--output", "scored", "--capture")
    n = sql_count(root, "SELECT count(*) AS n FROM capture_m WHERE request_id LIKE 'batch-row-%'")
    assert n == 300
    scored = json.loads(
        shipyard(
            root,
            "sql",
            "SELECT avg(abs(c.score - s.score)) AS d FROM capture_m c "
            "JOIN scored s ON c.request_id = s.request_id",
            "--json",
        ).stdout
    )
    assert scored[0]["d"] == pytest.approx(0.0, abs=1e-9)


def test_sql_unions_versions_whose_inputs_differ(project: Project) -> None:
    old = {"inputs": [{"name": "amount", "type": "number"}]}
    new = {"inputs": [{"name": "amount", "type": "number"}, {"name": "plan", "type": "string"}]}

    for version, signature, row in (
        (1, old, {"amount": 1.0}),
        (2, new, {"amount": 2.0, "plan": "x"}),
    ):
        w = CaptureWriter(project.artifacts, "fraud", version, signature)
        w.add(f"v{version}", [row], np.array([0.25]), np.array([False], dtype=object), 1.0)
        w.close()
    table = query(project, "SELECT * FROM capture_fraud ORDER BY model_version")
    assert table.column("model_version").to_pylist() == [1, 2]
    assert table.column("plan").to_pylist() == [None, "x"]
    assert table.column("prediction").to_pylist() == ["false", "false"]
    assert query(project, "SELECT count(*) AS n FROM capture_fraud").column("n")[0].as_py() == 2


def test_sql_without_captures_still_works_and_unknown_capture_views_fail_cleanly(
    project: Project,
) -> None:
    proc = shipyard(project.root, "sql", "SELECT count(*) AS n FROM capture_nothing", check=False)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "capture_nothing" in proc.stderr


def test_cli_refuses_a_capture_percentage_out_of_range(served_project: Project) -> None:
    proc = shipyard(served_project.root, "serve", "m@prod", "--capture", "150", check=False)
    assert proc.returncode == 1
    assert "percentage from 0 to 100" in proc.stderr and "Got 150" in proc.stderr
    assert "Serving" not in proc.stdout and "Traceback" not in proc.stderr
