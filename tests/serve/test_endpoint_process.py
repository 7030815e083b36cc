"""An endpoint served by a real process on loopback: a hot switch under load loses no
request, and a graceful stop flushes the captures and is audited."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from tests._endpoints import ROW, endpoint_project

from shipyard.deploy import create_endpoint, rollback_endpoint, update_endpoint
from shipyard.project import Project
from shipyard.serve import find_free_port, wait_until_ready

pytestmark = pytest.mark.e2e

_SERVE = (
    "import sys; from shipyard.project import open_project; "
    "from shipyard.serve import serve_endpoint; "
    "serve_endpoint(open_project(sys.argv[1], face='serve'), 'fraud', env='prod', "
    "port=int(sys.argv[2]))"
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    project = endpoint_project(tmp_path_factory.mktemp("endpoint-process"))
    yield project
    project.close()


class Load:
    """Client threads posting rows until stopped; what each request got back."""

    def __init__(self, base: str, threads: int = 4) -> None:
        self.answers: list[tuple[int, str]] = []  # (status, variant); appends are atomic
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(base,)) for _ in range(threads)]
        for t in self._threads:
            t.start()

    def _run(self, base: str) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            while not self._stop.is_set():
                try:
                    response = client.post("/v1/predict", json={"rows": [ROW]})
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                    continue
                self.answers.append((response.status_code, response.headers["x-shipyard-model"]))

    def wait_for(self, check: Callable[[list[tuple[int, str]]], bool], what: str) -> int:
        """Block until ``check`` holds for the answers since now; returns their start."""
        start = len(self.answers)
        deadline = time.monotonic() + 120  # a loaded CI box is slow; this is no timing test
        while not check(self.answers[start:]):
            assert time.monotonic() < deadline, f"never saw {what}"
            time.sleep(0.05)
        return start

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()


def test_a_hot_switch_under_load_loses_no_request(project: Project, tmp_path: Path) -> None:
    create_endpoint(project, "fraud", env="prod", variants=["m:1"], shadow="m:3=50", capture=100)
    port = find_free_port()
    env = {**os.environ, "SHIPYARD_ENDPOINT_POLL_SECONDS": "0.2"}
    env.pop("SHIPYARD_HOME", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVE, str(project.root), str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(proc, f"{base}/ping", timeout=180)
        load = Load(base)
        try:
            load.wait_for(lambda seen: len(seen) >= 200, "200 answers")
            update_endpoint(project, "fraud", env="prod", variants=["m:1=50", "m:2=50"])
            load.wait_for(lambda seen: any(v == "m:2" for _, v in seen), "m:2 answering")
            rollback_endpoint(project, "fraud", env="prod")
            load.wait_for(
                lambda seen: len(seen) >= 300 and all(v == "m:1" for _, v in seen[-200:]),
                "m:1 alone again",
            )
        finally:
            load.stop()
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    # uvicorn raises SIGTERM again once it has shut down gracefully
    assert proc.returncode in (0, -signal.SIGTERM), err.decode()[-2000:]
    assert b"Traceback" not in err, err.decode()[-2000:]
    assert load.failures == []
    statuses = Counter(status for status, _ in load.answers)
    assert statuses == {200: len(load.answers)}
    assert {v for _, v in load.answers} == {"m:1", "m:2"}

    events = project.catalog.list_events(limit=20, object_type="endpoint")
    actions = [e.action for e in events]
    assert actions[:2] == ["serve.stop", "endpoint.rollback"]
    assert "serve.start" in actions
    captures = project.dir / "artifacts" / "captures" / "m"
    for version in (1, 2, 3):  # the live variants and the shadow, all flushed at the stop
        assert list((captures / f"v{version}").rglob("*.parquet")), version
