"""Read-only SQL over every dataset: each one a DuckDB view named after it."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from shipyard.catalog import Catalog
from shipyard.errors import InvalidInput, did_you_mean
from shipyard.lake._sql import quote_ident, quote_literal
from shipyard.lake.store import Lake

__all__ = ["check_read_only", "connect_views", "query_error"]

_READ_ONLY = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


def check_read_only(sql: str) -> None:
    """Refuse anything but one SELECT (or EXPLAIN) statement.

    Raises:
        InvalidInput: The text is empty, is not valid SQL, holds several statements, or
            writes (INSERT, CREATE, COPY, ATTACH, SET, ...).
    """
    if not sql.strip():
        raise InvalidInput("The SQL query is empty. Give a SELECT statement.")
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise InvalidInput(f"The SQL query does not parse: {_first_line(exc)}") from exc
    if len(statements) != 1:
        raise InvalidInput(
            f"Give exactly one SQL statement; got {len(statements)}. Remove the extra ones."
        )
    kind = statements[0].type
    if kind not in _READ_ONLY:
        raise InvalidInput(
            f"Only read-only queries are allowed (SELECT); this is a {kind.name} statement. "
            "Datasets are immutable: to make a new one, use `shipyard ingest --sql`."
        )


def connect_views(catalog: Catalog, lake: Lake) -> duckdb.DuckDBPyConnection:
    """A sandboxed DuckDB connection with a view per dataset.

    ``name`` reads the latest version and ``"name@N"`` version N. The connection can read
    only the lake's folder and cannot change its own configuration.
    """
    con = duckdb.connect()
    latest: dict[str, str] = {}
    for version in catalog.list_dataset_versions():
        source = f"read_parquet('{quote_literal(lake.glob(version))}')"
        con.execute(f"CREATE VIEW {quote_ident(version.ref)} AS SELECT * FROM {source}")
        latest[version.name] = version.ref
    for name, ref in latest.items():
        con.execute(f"CREATE VIEW {quote_ident(name)} AS SELECT * FROM {quote_ident(ref)}")
    lake_dir = str(Path(lake.root)) + "/"
    con.execute(f"SET allowed_directories = ['{quote_literal(lake_dir)}']")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def query_error(exc: duckdb.Error, catalog: Catalog) -> InvalidInput:
    """A user-facing error for a failed query, suggesting a dataset for an unknown table."""
    message = f"The query failed: {_first_line(exc)}"
    match = re.search(r"Table with name (\S+) does not exist", str(exc))
    if match:
        names = {v.name for v in catalog.list_dataset_versions()}
        hint = did_you_mean(match.group(1), names) or (
            f" Datasets: {', '.join(sorted(names)) or 'none yet'}."
        )
        message += hint
    return InvalidInput(message)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]
