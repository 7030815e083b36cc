"""Hostile SQL: nothing a query says can change a dataset or touch a file outside the lake."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from shipyard.errors import InvalidInput
from shipyard.ingest import ingest_path, ingest_sql
from shipyard.lake import connect_views, query, verify_datasets
from shipyard.project import Project


def _files(project: Project) -> dict[str, str]:
    """Every file under the lake with the SHA-256 of its bytes."""
    return {
        str(p.relative_to(project.lake.root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(project.lake.root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def loans(project: Project, parquet_file: Path) -> Path:
    """``loans@1`` ingested; returns its folder in the lake."""
    version = ingest_path(project, parquet_file, "loans").version
    return project.lake.root / version.location


def _hostile(folder: Path, outside: Path) -> list[str]:
    inside = folder / "part-9.parquet"
    existing = next(folder.glob("*.parquet"))
    write = f"COPY (SELECT * FROM \"loans@1\" LIMIT 5) TO '{inside}' (FORMAT parquet)"
    return [
        write,
        f"COPY (SELECT * FROM loans) TO '{existing}' (FORMAT parquet, USE_TMP_FILE false)",
        f"COPY (SELECT 1 AS a) TO '{outside / 'out.csv'}'",
        f"EXPLAIN ANALYZE {write}",
        f"explain   analyse {write}",
        f"EXPLAIN (ANALYZE) {write}",
        f"EXPLAIN /* plan */ ANALYZE {write}",
        f"EXPLAIN {write}",
        f"WITH x AS ({write}) SELECT 1",
        "WITH x AS (INSERT INTO loans VALUES (1, 'FR', true, 0.0, 1) RETURNING *) SELECT * FROM x",
        f"SELECT * FROM (WITH y AS ({write}) SELECT 1)",
        f"ATTACH '{outside / 'x.db'}' AS x",
        "INSTALL httpfs",
        "LOAD httpfs",
        "PRAGMA enable_profiling",
        "SET enable_external_access = true",
        "RESET lock_configuration",
        "CREATE TABLE t AS SELECT 1",
        "DROP VIEW loans",
        f"EXPORT DATABASE '{outside / 'dump'}'",
        f"SELECT 1; {write}",
        f"SELECT * FROM loans; SELECT * FROM read_csv('{outside / 'out.csv'}')",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/passwd')",
        f"SELECT * FROM read_parquet('{outside / 'secret.parquet'}')",
        f"SELECT * FROM read_parquet('{folder}/../../../../secret.parquet')",
        "SELECT * FROM read_csv('shipyardlake://../../../../etc/passwd')",
        "SELECT * FROM glob('/etc/*')",
    ]


@pytest.mark.parametrize("runner", ["query", "ingest_sql"])
def test_hostile_queries_are_refused_and_change_nothing(
    project: Project, loans: Path, tmp_path: Path, runner: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    duckdb.sql("SELECT 42 AS secret").write_parquet(str(outside / "secret.parquet"))
    before = _files(project)
    for sql in _hostile(loans, outside):
        with pytest.raises(InvalidInput):
            if runner == "query":
                query(project, sql)
            else:
                ingest_sql(project, sql, "stolen")
    assert _files(project) == before
    assert sorted(p.name for p in outside.iterdir()) == ["secret.parquet"]
    assert [c.status for c in verify_datasets(project)] == ["ok"]
    assert [v.ref for v in project.catalog.list_dataset_versions()] == ["loans@1"]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT country, count(*) AS n FROM loans GROUP BY ALL",
        'WITH r AS (SELECT * FROM "loans@1") SELECT count(*) FROM r',
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) FROM n",
        "VALUES (1, 'a'), (2, 'b')",
        "SELECT 1 UNION ALL SELECT 2 EXCEPT SELECT 2",
        "FROM loans LIMIT 1",
        "DESCRIBE loans",
        "SUMMARIZE loans",
        "EXPLAIN SELECT * FROM loans WHERE amount > 10",
    ],
)
def test_read_only_queries_still_run(project: Project, loans: Path, sql: str) -> None:
    assert query(project, sql).num_rows > 0


@pytest.mark.parametrize(
    "target",
    ["existing part", "new part", "new folder in the lake", "outside the lake", "attach"],
)
def test_the_connection_cannot_write_even_past_the_parser(
    project: Project, loans: Path, tmp_path: Path, target: str
) -> None:
    """Defence in depth: statements run straight on the sandbox, with no parser check."""
    existing = next(loans.glob("*.parquet"))
    statement = {
        "existing part": f"COPY (SELECT 1 AS a) TO '{existing}' (FORMAT parquet, USE_TMP_FILE 0)",
        "new part": f"COPY (SELECT 1 AS a) TO 'shipyardlake://{loans.parent.name}/"
        f"{loans.name}/part-9.parquet' (FORMAT parquet)",
        "new folder in the lake": "COPY (SELECT 1 AS a) TO 'shipyardlake://loans/x' "
        "(FORMAT parquet, PARTITION_BY (a))",
        "outside the lake": f"COPY (SELECT 1 AS a) TO '{tmp_path / 'out.parquet'}'",
        "attach": "ATTACH 'shipyardlake://loans/evil.db' AS evil",
    }[target]
    before = _files(project)
    con = connect_views(project.catalog, project.lake)
    try:
        with pytest.raises(duckdb.Error):
            con.execute(statement).fetchall()
        for setting in ("enable_external_access = true", "allowed_directories = ['/']"):
            with pytest.raises(duckdb.Error):
                con.execute(f"SET {setting}")
    finally:
        con.close()
    assert _files(project) == before
    assert not (tmp_path / "out.parquet").exists()


def test_unknown_table_and_outside_file_get_a_clear_message(project: Project, loans: Path) -> None:
    with pytest.raises(InvalidInput, match="Did you mean 'loans'"):
        query(project, "SELECT * FROM loan")
    with pytest.raises(InvalidInput, match="read only this project's datasets"):
        query(project, "SELECT * FROM read_csv('/etc/passwd')")
