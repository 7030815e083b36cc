"""Open a dataset version (a list of Parquet files) for the analyze room, with clear errors."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.dataset as pads

from shipyard.errors import InvalidInput, NotFound, require_columns

__all__ = [
    "Paths",
    "duckdb_connect",
    "open_dataset",
    "require_columns",
    "sql_ident",
    "sql_source",
    "sql_str",
]

Paths = Sequence[str | os.PathLike[str]] | str | os.PathLike[str]


def _normalize(paths: Paths) -> list[str]:
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    if not isinstance(paths, Sequence) or isinstance(paths, bytes):
        raise InvalidInput(
            f"Expected a list of Parquet file paths. Got {type(paths).__name__} instead."
        )
    out = [os.fspath(p) for p in paths]
    if not out:
        raise InvalidInput(
            "The dataset has no Parquet files (an empty list of paths was given). "
            "Pass the files of a dataset version, e.g. lake.files('roaming@3')."
        )
    missing = [p for p in out if not Path(p).is_file()]
    if missing:
        raise NotFound(
            f"Parquet file not found: {missing[0]!r}"
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
            + ". Check the path or list the dataset version's files again.",
            details={"missing": missing},
        )
    return out


def open_dataset(paths: Paths) -> tuple[pads.Dataset, list[str]]:
    """Return the Arrow dataset over ``paths`` and the normalized list of paths.

    Raises:
        InvalidInput: No paths, a file that is not Parquet, or files whose schemas differ.
        NotFound: A path that does not exist.
    """
    files = _normalize(paths)
    try:
        dataset = pads.dataset(files, format="parquet")
        # Schemas must agree: a column that changes type between files is a broken version.
        first = dataset.schema
        for frag in dataset.get_fragments():
            if not frag.physical_schema.equals(first, check_metadata=False):
                raise InvalidInput(
                    f"Parquet file {frag.path!r} has schema {frag.physical_schema} which differs "
                    f"from the first file's {first}. A dataset version must share one schema."
                )
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(
            f"Could not read the files as Parquet: {exc}. Expected Parquet files written by the "
            "lake (or any Parquet writer)."
        ) from exc
    return dataset, files


def sql_str(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def sql_ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def sql_source(files: Sequence[str]) -> str:
    """``read_parquet([...])`` over the files, for a DuckDB ``FROM`` clause."""
    return "read_parquet([" + ", ".join(sql_str(f) for f in files) + "])"


def duckdb_connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection for one analysis (not shared across threads)."""
    return duckdb.connect(":memory:")
