"""The lake: each dataset version is a folder of Parquet files, published by one rename."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.entities import ColumnSchema, DatasetVersion
from shipyard.errors import IntegrityError
from shipyard.lake._sql import quote_literal
from shipyard.staging import staging_dir

if TYPE_CHECKING:  # pandas costs ~0.3 s to import; only read_frame needs it
    import pandas as pd
    import pyarrow as pa

__all__ = ["Lake", "TableFacts"]

_STAGING = "_staging"


@dataclass(frozen=True)
class TableFacts:
    """What the lake measured of a staged table: schema, rows, bytes, content fingerprint."""

    columns: tuple[ColumnSchema, ...]
    num_rows: int
    num_bytes: int
    fingerprint: str


class Lake:
    """Parquet folders under ``root``: ``<name>/<id>/part-*.parquet``, plus a staging area.

    A version is written to ``_staging/<id>`` and renamed into place, and only then recorded
    in the catalog; the catalog is the truth, so a folder the catalog does not name (left by
    a crash between the two steps) is invisible, and ``shipyard gc`` removes it.
    """

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def files(self, version: DatasetVersion) -> list[str]:
        """The Parquet files of a dataset version.

        Raises:
            IntegrityError: The version's folder is gone or empty.
        """
        folder = self.root / version.location
        files = sorted(str(p) for p in folder.glob("*.parquet"))
        if not files:
            raise IntegrityError(
                f"The files of dataset {version.ref} are missing from {folder}. "
                "The lake was changed outside Shipyard."
            )
        return files

    def read_frame(self, version: DatasetVersion) -> pd.DataFrame:
        """A dataset version as a pandas DataFrame (for training-sized data)."""
        import duckdb  # only the paths that read rows load it

        self.files(version)
        con = duckdb.connect()
        try:
            return con.sql(
                f"SELECT * FROM read_parquet('{quote_literal(self.glob(version))}')"
            ).df()
        finally:
            con.close()

    def head(self, version: DatasetVersion, rows: int) -> pa.Table:
        """The first ``rows`` rows of a dataset version, reading no more of its files than
        that takes (a page's sample; not a SQL connection with a view per dataset).

        Raises:
            IntegrityError: The version's folder is gone or empty.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        files = self.files(version)
        batches: list[pa.RecordBatch] = []
        left = max(rows, 0)
        for path in files:
            if left == 0:
                break
            with pq.ParquetFile(path) as parquet:
                for batch in parquet.iter_batches(batch_size=left):
                    batches.append(batch.slice(0, left))
                    left -= min(left, batch.num_rows)
                    if left == 0:
                        break
        if not batches:
            return pq.read_schema(files[0]).empty_table()
        return pa.Table.from_batches(batches)

    def glob(self, version: DatasetVersion) -> str:
        """A DuckDB glob that reads every Parquet file of ``version``."""
        return str(self.root / version.location / "*.parquet")

    @contextmanager
    def staging(self) -> Iterator[Path]:
        """A fresh staging folder, removed on exit unless it was published. What a dead
        writer left in the staging area is swept first (see :mod:`shipyard.staging`)."""
        with staging_dir(self.root / _STAGING) as folder:
            yield folder

    def folders(self) -> list[tuple[str, datetime]]:
        """Every published folder, whether or not the catalog names it: its location
        (``<name>/<id>``) and when it was last changed. The staging area is not listed."""
        return sorted(
            (f"{d.parent.name}/{d.name}", datetime.fromtimestamp(d.stat().st_mtime, UTC))
            for d in self.root.glob("*/*")
            if d.is_dir() and d.parent.name != _STAGING
        )

    def publish(self, staged: Path, name: str) -> str:
        """Move a staged folder into place for dataset ``name``; returns its location."""
        location = f"{name}/{staged.name}"
        target = self.root / location
        target.parent.mkdir(parents=True, exist_ok=True)
        staged.rename(target)
        return location

    def unpublish(self, location: str) -> None:
        """Remove a published folder whose catalog record could not be written."""
        shutil.rmtree(self.root / location, ignore_errors=True)

    def measure(self, folder: Path) -> TableFacts:
        """Schema, row count, size and a content fingerprint of the Parquet files in ``folder``.

        The fingerprint is independent of file layout and row order: the sum of every row's
        hash, with the schema and the row count, so identical content ingested twice (from a
        CSV, then from Parquet) is recognised.
        """
        import duckdb

        glob = str(folder / "*.parquet")
        con = duckdb.connect()
        try:
            rel = con.sql(f"SELECT * FROM read_parquet('{quote_literal(glob)}')")
            columns = tuple(
                ColumnSchema(n, str(t)) for n, t in zip(rel.columns, rel.dtypes, strict=True)
            )
            rows, row_hash = con.execute(
                f"SELECT count(*), coalesce(sum(hash(*COLUMNS(*))), 0)::VARCHAR "
                f"FROM read_parquet('{quote_literal(glob)}')"
            ).fetchone()  # type: ignore[misc]
        finally:
            con.close()
        digest = hashlib.sha256(
            repr(([(c.name, c.type) for c in columns], rows, row_hash)).encode()
        ).hexdigest()
        size = sum(p.stat().st_size for p in folder.glob("*.parquet"))
        return TableFacts(columns, int(rows), size, digest)
