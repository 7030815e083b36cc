from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from shipyard.errors import InvalidInput
from shipyard.ingest import ingest_path
from shipyard.lake import check_read_only, connect_views, query
from shipyard.project import Project


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO t VALUES (1)",
        "CREATE TABLE x AS SELECT 1",
        "COPY (SELECT 1) TO 'x.csv'",
        "ATTACH 'x.db'",
        "SET threads = 1",
        "SELECT 1; SELECT 2",
        "",
        "SELEC 1",
    ],
)
def test_only_one_select_is_allowed(sql: str) -> None:
    with pytest.raises(InvalidInput):
        check_read_only(sql)


def test_views_name_latest_and_each_version(project: Project, frame, tmp_path: Path) -> None:
    frame.to_parquet(tmp_path / "a.parquet", index=False)
    frame.head(10).to_parquet(tmp_path / "b.parquet", index=False)
    ingest_path(project, tmp_path / "a.parquet", "events")
    ingest_path(project, tmp_path / "b.parquet", "events")
    con = connect_views(project.catalog, project.lake)
    try:
        counts = con.sql(
            'SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM "events@1")'
        ).fetchall()
        assert counts == [(10, len(frame))]
        with pytest.raises(Exception, match="Permission"):
            con.sql("SELECT * FROM read_csv('/etc/hostname')").fetchall()
    finally:
        con.close()


@pytest.mark.parametrize(
    ("sql", "tables"),
    [
        ('SELECT * FROM "Events@1" e JOIN b USING (id)', {"events@1", "b"}),
        ("WITH a AS (SELECT * FROM z) SELECT * FROM a", {"a", "z"}),
        ("SUMMARIZE events", {"events"}),
        ("EXPLAIN SELECT (SELECT max(x) FROM q) FROM t", {"q", "t"}),
        ("SELECT 1", set()),
        ("SHOW TABLES", None),  # reads the catalog: every view
        ("SELECT * FROM information_schema.tables", None),
        ("SELECT * FROM duckdb_views()", None),
    ],
)
def test_a_query_names_the_tables_it_reads(sql: str, tables: set[str] | None) -> None:
    assert check_read_only(sql) == (None if tables is None else frozenset(tables))


def test_a_query_builds_only_the_views_it_reads(project: Project, frame, tmp_path: Path) -> None:
    frame.to_parquet(tmp_path / "a.parquet", index=False)
    frame.head(10).to_parquet(tmp_path / "b.parquet", index=False)
    for file, name in (("a", "events"), ("b", "events"), ("a", "other")):
        ingest_path(project, tmp_path / f"{file}.parquet", name)
    con = connect_views(project.catalog, project.lake, tables={"events@1", "other"})
    try:
        views = {
            r[0]
            for r in con.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
        }
        assert views == {"events@1", "other"}
    finally:
        con.close()
    # Names are matched as DuckDB matches them (not case sensitive); SHOW TABLES sees all.
    assert query(project, 'SELECT count(*) AS n FROM "EVENTS@2"').column("n").to_pylist() == [10]
    shown = set(query(project, "SHOW TABLES").column("name").to_pylist())
    assert {"events", "events@1", "events@2", "other", "other@1"} <= shown


def test_parallel_reads_of_a_wide_table_return_its_true_content(
    project: Project, tmp_path: Path, rng: np.random.Generator
) -> None:
    # DuckDB's threads share one handle per file; a shared seek position once let them read at
    # each other's offsets and fail with "Invalid data" or "don't know what type", 4 runs in 10.
    import pyarrow.parquet as pq

    n = 600_000
    columns = {f"c{i}": rng.normal(size=n) for i in range(40)}
    path = tmp_path / "wide.parquet"
    pq.write_table(pa.table({"k": np.arange(n), **columns}), path)
    ingest_path(project, path, "wide")
    for _ in range(6):
        got = query(project, "SELECT * FROM wide")
        assert got.num_rows == n
        assert pc.sum(got["k"]).as_py() == n * (n - 1) // 2


def test_head_reads_the_first_rows_of_one_version_only(
    project: Project, frame, tmp_path: Path
) -> None:
    frame.to_parquet(tmp_path / "a.parquet", index=False)
    ingest_path(project, tmp_path / "a.parquet", "events")
    version = project.catalog.get_dataset_version("events", 1)
    head = project.lake.head(version, 7)
    expected = pa.Table.from_pandas(frame.head(7), preserve_index=False)
    assert head.num_rows == 7 and head.column_names == expected.column_names
    assert head.column(0).to_pylist() == expected.column(0).to_pylist()
    assert project.lake.head(version, 0).num_rows == 0
    assert project.lake.head(version, 0).column_names == expected.column_names
    assert project.lake.head(version, len(frame) + 5).num_rows == len(frame)
