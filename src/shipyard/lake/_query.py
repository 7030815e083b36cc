"""Read-only SQL over every dataset: each one a DuckDB view named after it."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from shipyard.catalog import Catalog
from shipyard.entities import DatasetVersion
from shipyard.errors import InvalidInput, NotFound, did_you_mean
from shipyard.lake._guard import check_read_only, error_text
from shipyard.lake._lakefs import (
    CAPTURES_PROTOCOL,
    PROTOCOL,
    ReadOnlyCapturesFS,
    ReadOnlyLakeFS,
)
from shipyard.lake._sql import quote_ident, quote_literal
from shipyard.lake._workspace import Workspace
from shipyard.lake.store import Lake

if TYPE_CHECKING:
    import pyarrow as pa

    from shipyard.artifacts import ArtifactStore


__all__ = ["connect_views", "export", "query", "query_error", "query_reader"]

_EXPORT_FORMATS = {".parquet": "parquet", ".csv": "csv"}
_EXPORT_OPTIONS = {"parquet": "FORMAT parquet, COMPRESSION zstd", "csv": "FORMAT csv, HEADER true"}


def connect_views(
    catalog: Catalog,
    lake: Lake,
    artifacts: ArtifactStore | None = None,
    tables: Collection[str] | None = None,
) -> duckdb.DuckDBPyConnection:
    """A sandboxed DuckDB connection with a view per dataset, and per model's captures.

    ``name`` reads the latest version and ``"name@N"`` version N. Given the artifact store,
    ``capture_<model>`` reads every row captured for the model (all versions, columns
    unioned by name; a dataset of the same name wins). The connection reaches no file but
    the lake's and the captures', through read-only file systems: whatever SQL it runs, it
    cannot write a file anywhere, read one outside them, load an extension, or change its
    own configuration.

    ``tables`` (lower-cased names, from :func:`check_read_only`) limits the views to those
    a query reads, None builds them all: a view reads its files' schema when it is made,
    which for every version of every dataset cost more than most queries.
    """
    con = duckdb.connect()

    def wanted(name: str) -> bool:
        return tables is None or name.lower() in tables

    try:
        con.register_filesystem(ReadOnlyLakeFS(lake.root))
        reads_captures = tables is None or any(t.startswith("capture_") for t in tables)
        captured = (
            _register_captures(con, artifacts) if artifacts is not None and reads_captures else []
        )
        con.execute(f"SET allowed_directories = ['{PROTOCOL}://', '{CAPTURES_PROTOCOL}://']")
        con.execute("SET enable_external_access = false")
        con.execute("SET autoinstall_known_extensions = false")
        con.execute("SET autoload_known_extensions = false")
        latest: dict[str, DatasetVersion] = {}
        for version in catalog.list_dataset_versions():
            if wanted(version.ref):
                _dataset_view(con, version.ref, version)
            latest[version.name] = version
        for name, version in latest.items():
            if wanted(name):
                _dataset_view(con, name, version)
        for model in captured:
            name = f"capture_{model}"
            if name not in latest and wanted(name):  # a dataset of that name wins
                _capture_view(con, model)
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def _dataset_view(con: duckdb.DuckDBPyConnection, name: str, version: DatasetVersion) -> None:
    glob = f"{PROTOCOL}://{version.location}/*.parquet"
    con.execute(
        f"CREATE VIEW {quote_ident(name)} AS SELECT * FROM read_parquet('{quote_literal(glob)}')"
    )


def _register_captures(con: duckdb.DuckDBPyConnection, artifacts: ArtifactStore) -> list[str]:
    """The models with captures; their folder is registered read-only on ``con`` (before
    the sandbox closes external access, as DuckDB requires)."""
    from shipyard.capture import CAPTURES_PREFIX, capture_models

    models = capture_models(artifacts)
    if models:
        fs, path = artifacts.filesystem(CAPTURES_PREFIX)
        con.register_filesystem(ReadOnlyCapturesFS(path, fs))
    return models


def _capture_view(con: duckdb.DuckDBPyConnection, model: str) -> None:
    """The view ``capture_<model>``: every version's rows, columns unioned by name."""
    glob = f"{CAPTURES_PROTOCOL}://{model}/*/*/*/*.parquet"
    # A folder that holds no published file yet gets no view.
    with contextlib.suppress(duckdb.IOException):
        con.execute(
            f"CREATE VIEW {quote_ident(f'capture_{model}')} AS SELECT * FROM read_parquet("
            f"'{quote_literal(glob)}', union_by_name = true, hive_partitioning = false)"
        )


def query(project: Workspace, sql: str, limit: int | None = None) -> pa.Table:
    """The result of one read-only query over the datasets, at most ``limit`` rows.

    Raises:
        InvalidInput: The SQL is not one read-only query, or it fails (an unknown dataset
            gets a "did you mean").
    """
    tables = check_read_only(sql)
    con = connect_views(project.catalog, project.lake, project.artifacts, tables)
    try:
        rel = con.sql(sql)
        if limit is not None:
            rel = rel.limit(max(limit, 0))
        return rel.to_arrow_table()
    except duckdb.Error as exc:
        raise query_error(exc, project.catalog) from exc
    finally:
        con.close()


@contextmanager
def query_reader(project: Workspace, sql: str) -> Iterator[pa.RecordBatchReader]:
    """The result of one read-only query as a stream of Arrow batches, for writing elsewhere.

    Raises:
        InvalidInput: As :func:`query`.
    """
    tables = check_read_only(sql)
    con = connect_views(project.catalog, project.lake, project.artifacts, tables)
    try:
        try:
            reader = con.sql(sql).to_arrow_reader()
        except duckdb.Error as exc:
            raise query_error(exc, project.catalog) from exc
        yield reader
    finally:
        con.close()


def export(project: Workspace, sql: str, path: str | Path, fmt: str | None = None) -> int:
    """Write the whole result of a read-only query to a Parquet or CSV file; returns its rows.

    The query runs in the sandbox; only this function's own COPY writes, and never inside
    the project's ``.shipyard`` folder.

    Raises:
        InvalidInput: The format is unknown, the path is in ``.shipyard`` or is a folder,
            or the query is refused or fails.
        NotFound: The folder to write into does not exist.
    """
    target = Path(path).expanduser().resolve()
    fmt = fmt or _EXPORT_FORMATS.get(target.suffix.lower())
    if fmt not in _EXPORT_OPTIONS:
        raise InvalidInput(
            f"The output file must end in .parquet or .csv (or give the format); "
            f"got {Path(path).name!r}."
        )
    if target.is_relative_to(project.dir.resolve()):
        raise InvalidInput(
            f"Cannot write {target}: it is inside the project's {project.dir.name} folder, "
            "which only Shipyard writes. Choose a path outside it."
        )
    if target.is_dir():
        raise InvalidInput(f"{target} is a folder; give a file path such as {target}/out.{fmt}.")
    if not target.parent.is_dir():
        raise NotFound(
            f"The folder {target.parent} does not exist. Create it first or choose another path."
        )
    with query_reader(project, sql) as reader:
        writer = duckdb.connect()
        try:
            writer.register("query_result", reader)
            rows = writer.execute(
                f"COPY (SELECT * FROM query_result) TO '{quote_literal(str(target))}' "
                f"({_EXPORT_OPTIONS[fmt]})"
            ).fetchall()
        except duckdb.Error as exc:
            raise query_error(exc, project.catalog) from exc
        finally:
            writer.close()
    return int(rows[0][0]) if rows else 0


def query_error(exc: duckdb.Error, catalog: Catalog) -> InvalidInput:
    """A user-facing error for a failed query, suggesting a dataset for an unknown table."""
    message = f"The query failed: {error_text(exc)}"
    match = re.search(r"Table with name (\S+) does not exist", str(exc))
    if match:
        names = {v.name for v in catalog.list_dataset_versions()}
        hint = did_you_mean(match.group(1), names) or (
            f" Datasets: {', '.join(sorted(names)) or 'none yet'}."
        )
        message += hint
    elif "file system operations are disabled" in message or "read-only" in message:
        message += (
            " Queries read only this project's datasets and write nothing; ingest a file "
            "first to query it, and use --out (or export) to write a result."
        )
    return InvalidInput(message)
