"""``serve_model`` in a real process, answering real HTTP on loopback."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from shipyard.project import Project
from shipyard.serve import find_free_port, wait_until_ready

pytestmark = pytest.mark.e2e


def test_serve_model_answers_http_on_loopback(project: Project) -> None:
    port = find_free_port()
    command = [
        sys.executable,
        "-c",
        "import sys; from shipyard.project import open_project; "
        "from shipyard.serve import serve_model; "
        "serve_model(open_project(sys.argv[1], face='serve'), 'm@prod', port=int(sys.argv[2]))",
        str(project.root),
        str(port),
    ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(proc, f"{base}/ping")
        with httpx.Client(base_url=base, timeout=5.0) as client:
            row = {"amount": 120.5, "calls": 3, "country": "fr", "roaming": True}
            response = client.post("/v1/predict", json={"rows": [row]})
            assert response.status_code == 200
            assert response.headers["x-shipyard-model"] == "m:1"
            assert 0.0 <= response.json()["predictions"][0]["score"] <= 1.0

            response = client.post(
                "/invocations", content="120.5,3,fr,true\n", headers={"content-type": "text/csv"}
            )
            assert response.status_code == 200

            response = client.post("/v1/predict", json={"rows": [{"amount": 1}]})
            assert response.status_code == 422
            assert response.json()["error"] == "InvalidInput"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stdout.close()  # type: ignore[union-attr]

    events = project.catalog.list_events(limit=20, object_type="model")
    starts = [e for e in events if e.action == "serve.start"]
    assert starts and starts[0].object_id == "m:1"
    assert starts[0].details["port"] == port
