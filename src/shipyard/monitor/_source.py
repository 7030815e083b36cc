"""What a drift comparison reads: a dataset version, or a DuckDB query over Parquet files."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shipyard.errors import InvalidInput
from shipyard.lake import quote_ident, quote_literal

if TYPE_CHECKING:
    import duckdb

    from shipyard.project import Project

__all__ = ["DriftInput", "Source", "describe", "resolve"]


@dataclass(frozen=True)
class DriftInput:
    """One side of a drift comparison.

    Either a dataset reference (``usage`` for the latest version, ``usage@3``) or a DuckDB
    ``SELECT`` whose rows are compared (typically over Parquet globs, e.g. captured rows).
    Build one with :meth:`of_dataset`, :meth:`of_query` or :meth:`of_parquet`; a plain
    string given to :func:`shipyard.monitor.compare` is a dataset reference.

    The query is the caller's own code, not user input: it runs on a plain DuckDB connection
    that can read whatever files the process can. Only one read-only statement is accepted.

    Attributes:
        dataset: A dataset reference, or None.
        sql: A read-only DuckDB query, or None.
        label: How reports name this side (default: the reference, or "query").
    """

    dataset: str | None = None
    sql: str | None = None
    label: str | None = None

    def __post_init__(self) -> None:
        if (self.dataset is None) == (self.sql is None):
            raise InvalidInput(
                "A DriftInput needs exactly one of 'dataset' (NAME or NAME@N) and 'sql' "
                f"(a SELECT). Got dataset={self.dataset!r} and sql={self.sql!r} instead."
            )

    @classmethod
    def of_dataset(cls, ref: str, *, label: str | None = None) -> DriftInput:
        """A dataset version: ``name`` (the latest) or ``name@N``."""
        return cls(dataset=ref, label=label)

    @classmethod
    def of_query(cls, sql: str, *, label: str | None = None) -> DriftInput:
        """The rows of a read-only DuckDB query."""
        return cls(sql=sql, label=label)

    @classmethod
    def of_parquet(
        cls,
        paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
        *,
        columns: Sequence[str] | None = None,
        where: str | None = None,
        label: str | None = None,
    ) -> DriftInput:
        """Rows of Parquet files or globs (``captures/fraud/2026-01-01-*/*.parquet``).

        Args:
            paths: Files or glob patterns; files may differ in columns (matched by name).
            columns: The columns to read (default: all).
            where: A SQL condition on the rows, e.g. ``"ts >= TIMESTAMP '2026-01-01'"``.
            label: How reports name this side.
        """
        items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
        if not items:
            raise InvalidInput("The 'paths' parameter of DriftInput.of_parquet is empty.")
        files = ", ".join(f"'{quote_literal(os.fspath(p))}'" for p in items)
        cols = ", ".join(quote_ident(c) for c in columns) if columns else "*"
        sql = f"SELECT {cols} FROM read_parquet([{files}], union_by_name = true)"
        if where:
            sql += f" WHERE {where}"
        return cls(
            sql=sql, label=label or (os.fspath(items[0]) + (" ..." if len(items) > 1 else ""))
        )


@dataclass(frozen=True)
class Source:
    """A side resolved to what DuckDB reads: a label and a ``FROM`` expression."""

    label: str
    relation: str


def resolve(project: Project | None, side: str | DriftInput, role: str) -> Source:
    """The ``FROM`` expression of one side; a string is a dataset reference.

    Raises:
        NotFound: An unknown dataset or version (with a close name suggested).
        InvalidInput: A malformed reference or a query that is not one read-only SELECT.
    """
    given = DriftInput.of_dataset(side) if isinstance(side, str) else side
    if not isinstance(given, DriftInput):
        raise InvalidInput(
            f"The '{role}' parameter of compare must be a dataset reference (NAME or NAME@N) "
            f"or a DriftInput. Got {type(side).__name__} instead."
        )
    if given.sql is not None:
        from shipyard.lake import check_read_only

        check_read_only(given.sql)
        return Source(given.label or "query", f"({given.sql})")
    if project is None:
        raise InvalidInput(
            f"The {role} side is a dataset ({given.dataset!r}): compare needs the project "
            "that holds it. Pass project=open_project(...)."
        )
    from shipyard.catalog.refs import parse_dataset_ref

    parsed = parse_dataset_ref(str(given.dataset))
    version = project.catalog.get_dataset_version(parsed.name, parsed.version)
    files = ", ".join(f"'{quote_literal(f)}'" for f in project.lake.files(version))
    return Source(given.label or version.ref, f"read_parquet([{files}])")


def describe(con: duckdb.DuckDBPyConnection, source: Source) -> dict[str, str]:
    """Column name -> DuckDB type of a side.

    Raises:
        InvalidInput: DuckDB cannot read the side (a bad query, a missing file).
    """
    import duckdb

    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {source.relation}").fetchall()
    except duckdb.Error as exc:
        from shipyard.lake import error_text

        raise InvalidInput(f"Could not read {source.label}: {error_text(exc)}") from exc
    return {str(r[0]): str(r[1]) for r in rows}
