"""Hostile clients against a real ``shipyard server`` (the REST API) on loopback, with a
valid token: SQL that tries to reach outside the lake, path traversal in names, a 1 GB body,
slow clients, deeply nested JSON. Each is refused cleanly (a 4xx with a JSON error, nothing
read from outside the lake) and the server keeps answering everyone else."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shipyard.ingest import ingest_path
from shipyard.project import init_project
from shipyard.security import create_token
from tests.conftest import serve_frame
from tests.reliability._hostile import (
    GB,
    NESTED,
    closed_by_server,
    huge_body,
    running,
    slow_sockets,
)

pytestmark = pytest.mark.e2e

LIMIT = 1024 * 1024  # server_max_body_bytes' default
SECRET = "root:x:0:0"  # what /etc/passwd starts with


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str, Path]]:
    """The port of a running REST API over a project with dataset ``d``, a token, the root."""
    root = tmp_path_factory.mktemp("hostile-api")
    with init_project(root) as project:
        serve_frame().to_parquet(root / "d.parquet")
        ingest_path(project, root / "d.parquet", "d")
        token = create_token(project, "hostile", role="admin", env="all").token
    with running(root, "server") as port:
        yield port, token, root


def _client(api: tuple[int, str, Path]) -> httpx.Client:
    port, token, _ = api
    return httpx.Client(
        base_url=f"http://127.0.0.1:{port}",
        headers={"authorization": f"Bearer {token}"},
        timeout=30,
    )


def _still_serves(api: tuple[int, str, Path]) -> None:
    with _client(api) as client:
        assert client.get("/ping").status_code == 200
        answer = client.post("/api/v1/sql", json={"query": "SELECT count(*) AS n FROM d"})
        assert answer.status_code == 200, answer.text


def _refused(answer: httpx.Response) -> None:
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])
    if answer.url.path.startswith("/api/"):
        assert answer.json()["error"], answer.text[:300]
    else:  # outside the API, Studio answers with an error page
        assert answer.headers["content-type"].startswith("text/html"), answer.text[:300]
    assert SECRET not in answer.text


ESCAPES = [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/passwd')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM read_csv('file:///etc/passwd')",
    "SELECT * FROM read_csv('lake://../../../../../../etc/passwd')",
    "SELECT * FROM read_text('lake://../.shipyard/catalog.db')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM sqlite_scan('.shipyard/catalog.db', 'api_tokens')",
    "SELECT * FROM read_csv('https://example.com/x.csv')",
    "ATTACH '.shipyard/catalog.db' AS c",
    "ATTACH ':memory:' AS m",
    "INSTALL httpfs",
    "LOAD sqlite",
    "COPY (SELECT 1) TO '/tmp/shipyard-hostile.csv'",
    "EXPORT DATABASE '/tmp/shipyard-hostile'",
    "SET enable_external_access = true",
    "CALL pragma_version()",
    "SELECT 1; ATTACH ':memory:' AS m",
    "WITH w AS (INSERT INTO d VALUES (1)) SELECT 1",
    "EXPLAIN ANALYZE COPY (SELECT 1) TO '/tmp/shipyard-hostile.csv'",
    "CREATE TABLE t AS SELECT 1",
]


@pytest.mark.parametrize("sql", ESCAPES)
def test_sql_cannot_reach_outside_the_lake(api: tuple[int, str, Path], sql: str) -> None:
    with _client(api) as client:
        _refused(client.post("/api/v1/sql", json={"query": sql}))
    assert not Path("/tmp/shipyard-hostile.csv").exists()
    assert not Path("/tmp/shipyard-hostile").exists()


TRAVERSALS = [
    ("GET", "/api/v1/datasets/..%2F..%2F..%2Fetc%2Fpasswd"),
    ("GET", "/api/v1/datasets/%2e%2e/versions"),
    ("GET", "/api/v1/datasets/d%00/versions"),
    ("GET", "/api/v1/datasets/d/versions/1/reports/..%2F..%2F..%2Fetc%2Fpasswd"),
    ("GET", "/api/v1/models/..%2F.shipyard%2Fcatalog.db/versions"),
    ("GET", "/api/v1/features/groups/..%2F..%2Fetc%2Fpasswd"),
    ("GET", "/api/v1/runs/..%2F..%2Fetc%2Fpasswd"),
    ("GET", "/api/v1/monitors/..%2F..%2Fetc%2Fpasswd/runs"),
    ("POST", "/api/v1/datasets/..%2F..%2Fetc%2Fpasswd/versions/1/profile"),
    ("POST", "/api/v1/models/..%2F..%2Fx/versions/1/promote"),
    ("GET", "/api/v1/../../../etc/passwd"),
    ("GET", "/..%2F..%2F..%2Fetc%2Fpasswd"),
]


@pytest.mark.parametrize(("method", "path"), TRAVERSALS)
def test_path_traversal_in_names_is_a_4xx(
    api: tuple[int, str, Path], method: str, path: str
) -> None:
    with _client(api) as client:
        answer = client.request(method, httpx.URL(path), json={} if method == "POST" else None)
    _refused(answer)


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_1_gb_body_is_refused_early_with_413(api: tuple[int, str, Path], framing: str) -> None:
    port, token, _ = api
    answer, sent = huge_body(port, "/api/v1/sql", framing, f"Authorization: Bearer {token}\r\n")
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 8 * LIMIT < GB  # the server stopped reading long before 1 GB
    _still_serves(api)


@pytest.mark.parametrize("part", ["head", "body"])
def test_slow_clients_are_cut_off_and_others_still_served(
    api: tuple[int, str, Path], part: str
) -> None:
    port, token, _ = api
    head = f"POST /api/v1/sql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
    if part == "body":
        head += "Content-Length: 100000\r\n\r\n{"
    socks = slow_sockets(port, 64, head.encode())
    try:
        _still_serves(api)  # 64 slow connections open: everyone else is still answered
        dribble = b"X-a: b\r\n" if part == "head" else b" "
        assert all(closed_by_server(sock, dribble) for sock in socks)
    finally:
        for sock in socks:
            sock.close()
    _still_serves(api)


@pytest.mark.parametrize("kind", list(NESTED))
def test_deeply_nested_json_is_a_4xx(api: tuple[int, str, Path], kind: str) -> None:
    with _client(api) as client:
        answer = client.post(
            "/api/v1/sql", content=NESTED[kind], headers={"content-type": "application/json"}
        )
    _refused(answer)
    _still_serves(api)
