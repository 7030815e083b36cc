"""Hostile names and SQL through the real CLI: path traversal in dataset, model and feature
group names, and SQL that reaches for files, URLs or extensions outside the lake. Each is a
one-line message and exit 1, and nothing outside the project is touched.

(The wider SQL sandbox is proven in ``tests/lake/test_sandbox.py``; these are the entry
points a user types.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.cli import shipyard

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    (root / "d.csv").write_text("a,y\n1,0\n2,1\n3,0\n4,1\n")
    shipyard(root, "init")
    shipyard(root, "ingest", "d.csv", "--name", "d")
    return root


def _refused(proc: object, match: str) -> None:
    out = proc.stdout + proc.stderr  # type: ignore[attr-defined]
    assert proc.returncode == 1, out  # type: ignore[attr-defined]
    assert "Traceback" not in out
    assert match in " ".join(out.split())


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("ingest", "d.csv", "--name", "../../escaped"), "is not a valid dataset name"),
        (("ingest", "d.csv", "--name", "/tmp/escaped"), "is not a valid dataset name"),
        (("datasets", "show", "../../etc/passwd"), "is not a dataset reference"),
        (("train", "d", "--target", "y", "--model-name", "../../escaped"), "not a model reference"),
        (("models", "promote", "../x:1", "--to", "prod"), "is not a model reference"),
        (("serve", "..%2F..%2Fx@prod"), "is not a model reference"),
        (("features", "materialize", "../../x"), "No feature group named"),
    ],
)
def test_path_traversal_in_names_is_refused(
    workdir: Path, args: tuple[str, ...], match: str
) -> None:
    _refused(shipyard(workdir, *args, check=False), match)
    assert not (workdir.parent / "escaped").exists() and not Path("/tmp/escaped").exists()


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM '/etc/passwd'",
        "FROM read_blob('/etc/passwd')",
        "SELECT * FROM sqlite_scan('/etc/x.db', 't')",
        "SELECT * FROM 'https://example.com/x.csv'",
    ],
)
def test_sql_reaching_outside_the_lake_is_refused(workdir: Path, sql: str) -> None:
    proc = shipyard(workdir, "sql", sql, check=False)
    _refused(proc, "Error (InvalidInput)")
    assert "root:" not in proc.stdout  # no line of /etc/passwd came back
