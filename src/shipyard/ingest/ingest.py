"""Ingest: files or a SQL query become a new immutable dataset version."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb

from shipyard.errors import InvalidInput
from shipyard.ingest._readers import first_line, rejects, relation, resolve_files
from shipyard.lake import query_reader, quote_literal
from shipyard.lake.publish import Published, publish_staged
from shipyard.project import Project

__all__ = ["IngestResult", "ingest_path", "ingest_sql", "validate_name"]

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_FILE_SIZE = "256MB"


IngestResult = Published
"""The version an ingest produced, or the existing one when nothing changed."""


def validate_name(name: str) -> str:
    """Check a dataset name: lower-case letters, digits and underscores, starting with a letter."""
    if not _NAME.match(name):
        raise InvalidInput(
            f"'{name}' is not a valid dataset name. Use lower-case letters, digits and "
            "underscores, starting with a letter (at most 63 characters), e.g. 'roaming_usage'."
        )
    return name


def ingest_path(
    project: Project,
    path: str | Path,
    name: str,
    *,
    fmt: str | None = None,
    constraints: dict[str, Any] | None = None,
) -> IngestResult:
    """Ingest a CSV, Parquet or JSON-lines file, or a folder of them, as ``name@N``.

    Raises:
        NotFound: The path does not exist.
        InvalidInput: The name is invalid, a file is empty, malformed or has no rows.
    """
    validate_name(name)
    if fmt is not None and fmt not in ("csv", "parquet", "json"):
        raise InvalidInput(f"The format must be csv, parquet or json. Got '{fmt}' instead.")
    files, fmt = resolve_files(Path(path).expanduser().resolve(), fmt)
    with project.lake.staging() as staged:
        con = duckdb.connect()
        try:
            rel = relation(con, files, fmt)
            _write(con, rel, staged, files[0])
            bad = rejects(con) if fmt == "csv" else []
        finally:
            con.close()
        if bad:
            first = bad[0]
            raise InvalidInput(
                f"{first['file']} line {first['line']}: {first['message']} "
                f"({first['error']}: {str(first['text'])[:80]!r}). {len(bad)} bad line(s) "
                "found; fix them and ingest again. Nothing was stored.",
                details={"rejected": bad},
            )
        if constraints is not None:
            _enforce(constraints, staged, name)
        source = f"{fmt}:{files[0] if len(files) == 1 else Path(path).resolve()}"
        return _publish(project, staged, name, source)


def ingest_sql(
    project: Project, sql: str, name: str, *, constraints: dict[str, Any] | None = None
) -> IngestResult:
    """Run a read-only query over the datasets and store its result as ``name@N``.

    The query runs in the lake's read-only sandbox; its rows stream to the new version's
    staging folder, which only this function writes.

    Raises:
        InvalidInput: The name is invalid, the SQL is not one read-only query or fails, the
            result has no rows, or it breaks a ``constraints`` rule of severity error.
    """
    validate_name(name)
    with project.lake.staging() as staged:
        with query_reader(project, sql) as reader:
            con = duckdb.connect()
            try:
                con.register("query_result", reader)
                _write(con, con.sql("SELECT * FROM query_result"), staged, None)
            finally:
                con.close()
        if constraints is not None:
            _enforce(constraints, staged, name)
        return _publish(project, staged, name, f"sql:{sql.strip()}")


def _write(
    con: duckdb.DuckDBPyConnection,
    rel: duckdb.DuckDBPyRelation,
    staged: Path,
    origin: Path | None,
) -> None:
    try:
        con.execute(
            f"COPY ({rel.sql_query()}) TO '{quote_literal(str(staged))}' "
            f"(FORMAT parquet, COMPRESSION zstd, FILE_SIZE_BYTES '{_FILE_SIZE}', "
            "FILENAME_PATTERN 'part-{i}', OVERWRITE_OR_IGNORE true)"
        )
    except duckdb.Error as exc:
        where = f"{origin}: " if origin else ""
        raise InvalidInput(f"{where}{first_line(exc)}. Nothing was stored.") from exc


def _enforce(constraints: dict[str, Any], staged: Path, name: str) -> None:
    from shipyard.analyze import check_constraints

    report = check_constraints(sorted(str(p) for p in staged.glob("*.parquet")), constraints)
    if not report["passed"]:
        failed = [v for v in report["violations"] if v["severity"] == "error"]
        listing = "; ".join(
            f"{v['column']}: {v['rule']} expected {v['expected']}, found {v['found']}"
            for v in failed[:5]
        )
        raise InvalidInput(
            f"The data for '{name}' breaks {len(failed)} data-quality rule(s) of severity "
            f"error: {listing}. Nothing was stored.",
            details={"violations": report["violations"]},
        )


def _publish(project: Project, staged: Path, name: str, source: str) -> IngestResult:
    published = publish_staged(
        project.catalog, project.lake, staged, name, source=source, actor=project.actor
    )
    return IngestResult(published.version, published.unchanged)
