"""Hostile clients against a real ``shipyard serve`` process on loopback: a 1 GB body (with a
Content-Length, and chunked), slow clients (slowloris, on the head and on the body), deeply
nested JSON. Each is refused cleanly, early, and the server keeps answering everyone else.
A swapped pickle in a bundle is refused before anything is unpickled.

The server runs with 1-second read deadlines (``SHIPYARD_SERVE_HEADER_TIMEOUT`` /
``..._BODY_TIMEOUT``) so the slow clients are cut off quickly; the 10 MB body limit is the
default.
"""

from __future__ import annotations

import pickle
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shipyard.project import Project
from tests.e2e.cli import shipyard
from tests.reliability._hostile import (
    GB,
    NESTED,
    closed_by_server,
    huge_body,
    running,
    slow_sockets,
)

pytestmark = pytest.mark.e2e

LIMIT = 10 * 1024 * 1024  # serve_max_body_bytes' default
ROW = {"amount": 120.5, "calls": 3, "country": "fr", "roaming": True}


@pytest.fixture(scope="module")
def port(served_project: Project) -> Iterator[int]:
    with running(served_project.root, "serve", "m@prod") as port:
        yield port


def _still_serves(port: int) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        assert client.get("/ping").status_code == 200
        answer = client.post("/v1/predict", json={"rows": [ROW]})
        assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_1_gb_body_is_refused_early_with_413(port: int, framing: str) -> None:
    answer, sent = huge_body(port, "/v1/predict", framing)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 8 * LIMIT < GB  # the server stopped reading long before 1 GB
    _still_serves(port)


@pytest.mark.parametrize(
    ("part", "head"),
    [
        ("head", b"POST /v1/predict HTTP/1.1\r\nHost: x\r\n"),
        ("body", b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{"),
    ],
)
def test_slow_clients_are_cut_off_and_others_still_served(
    port: int, part: str, head: bytes
) -> None:
    socks = slow_sockets(port, 64, head)
    try:
        _still_serves(port)  # 64 slow connections open: everyone else is still answered
        dribble = b"X-a: b\r\n" if part == "head" else b" "
        assert all(closed_by_server(sock, dribble) for sock in socks)
    finally:
        for sock in socks:
            sock.close()
    _still_serves(port)


@pytest.mark.parametrize("kind", list(NESTED))
def test_deeply_nested_json_is_a_4xx(port: int, kind: str) -> None:
    path = "/invocations" if kind == "invocations" else "/v1/predict"
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        answer = client.post(
            path, content=NESTED[kind], headers={"content-type": "application/json"}
        )
    assert answer.status_code in (400, 422), answer.text[:300]
    assert answer.json()["error"]
    _still_serves(port)


class _Planted:
    """Unpickling this would create the marker file: proof that something was unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def test_a_swapped_pickle_is_refused_before_it_is_unpickled(
    served_project: Project, tmp_path: Path
) -> None:
    root = tmp_path / "copy"
    shutil.copytree(served_project.root, root)
    (bundle,) = (root / ".shipyard" / "artifacts" / "models" / "m").iterdir()
    marker = tmp_path / "unpickled"
    (bundle / "model.pkl").write_bytes(pickle.dumps(_Planted(marker)))
    for args in (
        ("serve", "m@prod", "--port", "0"),
        ("batch", "m@prod", "--input", "d", "--output", "scored"),
    ):
        proc = shipyard(root, *args, check=False)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "does not match its manifest" in " ".join((proc.stdout + proc.stderr).split())
        assert "Traceback" not in proc.stderr
    assert not marker.exists()
