"""Batch transform on Ray: Ray Data ``map_batches`` over a dataset version's Parquet files.

Ray tasks (one CPU each) get the model from the object store and score blocks with the same
step as the local path (:func:`~shipyard.deploy.batch.score_batch`); the driver streams the
scored blocks back in order and writes the one staged file the local path writes, so the version
published is the same: same rows, order, columns and values.

The workers read the lake's files at their paths, so on a cluster the lake must be on a
file system every node sees at the same path.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from shipyard.compute import connect_ray
from shipyard.errors import BackendUnavailable, ShipyardError
from shipyard.lake import quote_literal
from shipyard.model import TabularModel

if TYPE_CHECKING:
    from shipyard.entities import DatasetVersion
    from shipyard.project import Project

__all__ = ["score_on_ray"]


_MODELS: dict[str, TabularModel] = {}
"""Models a Ray worker process has fetched, by object id: its later tasks reuse them."""


def _score_block(
    batch: pa.Table, model_ref: Any, schema: pa.Schema, written: str | None = None
) -> pa.Table:
    """Score one block on a Ray worker, with the model the driver put in the object store
    once (fetched and unpickled once per worker process)."""
    from shipyard.deploy.batch import score_batch

    key = model_ref.hex()
    model = _MODELS.get(key)
    if model is None:
        import ray

        model = _MODELS[key] = ray.get(model_ref)

    # The types DuckDB gives the local path (a Parquet dictionary column read by Arrow
    # would otherwise reach pandas as a category).
    table = batch.select(schema.names).cast(schema).combine_chunks()
    scored, _ = score_batch(model, table.to_batches()[0], threads=1, written=written)
    return scored


def score_on_ray(
    project: Project,
    model: TabularModel,
    source: DatasetVersion,
    staged: Path,
    rows_per_batch: int,
    *,
    address: str | None,
    progress: Callable[[int, int], None] | None,
    written: str | None = None,
) -> None:
    """Score ``source`` with ``model`` on Ray into ``staged/part-0.parquet``.

    Raises:
        InvalidInput: A value the model cannot read (as the local path raises it).
        BackendUnavailable: Ray is not installed, its cluster cannot be reached, or a task
            failed there.
    """
    schema = _local_schema(project.lake.glob(source))
    with connect_ray(address or project.settings.ray_address) as cluster:
        import ray.data

        with _ordered(ray.data.DataContext.get_current()):
            # Tasks, not an actor pool: actors would hold every CPU and starve the reads.
            dataset = ray.data.read_parquet(project.lake.files(source))
            scored = dataset.map_batches(
                partial(
                    _score_block,
                    model_ref=cluster.ray.put(model),
                    schema=schema,
                    written=written,
                ),
                batch_size=rows_per_batch,
                batch_format="pyarrow",
                num_cpus=1,
            )
            try:
                _write(
                    scored.iter_batches(batch_size=None, batch_format="pyarrow"),
                    staged,
                    source,
                    progress,
                )
            except cluster.ray.exceptions.RayError as exc:
                raise _translated(exc) from exc


def _translated(exc: BaseException) -> ShipyardError:
    """Our own error where a task raised one (a value the model cannot read), else a
    failure of the cluster, with Ray's message."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            break
        if isinstance(seen, ShipyardError):
            return seen
        seen = getattr(seen, "cause", None) or seen.__cause__
    return BackendUnavailable(f"Batch transform failed on Ray: {str(exc).strip()[-2000:]}")


def _write(
    tables: Iterable[Any],
    staged: Path,
    source: DatasetVersion,
    progress: Callable[[int, int], None] | None,
) -> None:
    writer: pq.ParquetWriter | None = None
    done = 0
    try:
        for table in tables:
            if table.num_rows == 0:
                continue
            if writer is None:
                writer = pq.ParquetWriter(
                    staged / "part-0.parquet", table.schema, compression="zstd"
                )
            writer.write_table(table)
            done += table.num_rows
            if progress:
                progress(done, source.num_rows)
    finally:
        if writer is not None:
            writer.close()


def _local_schema(glob: str) -> pa.Schema:
    """The Arrow schema the local path reads the dataset with (DuckDB's)."""
    import duckdb

    con = duckdb.connect()
    try:
        return (
            con.sql(f"SELECT * FROM read_parquet('{quote_literal(glob)}') LIMIT 0")
            .to_arrow_table()
            .schema
        )
    finally:
        con.close()


@contextlib.contextmanager
def _ordered(context: Any) -> Iterator[None]:
    """Ray Data keeping the input's row order and printing no progress bars or notices of
    its own, for the length of one job (the context and its logger are the process's)."""
    logger = logging.getLogger("ray.data")
    level = logger.level
    logger.setLevel(logging.ERROR)
    saved = (
        context.execution_options.preserve_order,
        context.enable_progress_bars,
        context.print_on_execution_start,
    )
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    try:
        yield
    finally:
        logger.setLevel(level)
        (
            context.execution_options.preserve_order,
            context.enable_progress_bars,
            context.print_on_execution_start,
        ) = saved
