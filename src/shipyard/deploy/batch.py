"""Batch transform: score a dataset version into a new one, streaming so size is no limit."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from shipyard.catalog.refs import parse_dataset_ref
from shipyard.compute import check_backend, require_ray
from shipyard.errors import InvalidInput, ShipyardError
from shipyard.ingest import validate_name
from shipyard.lake import Published, mark_written, publish_staged, quote_literal
from shipyard.project import Project
from shipyard.registry import LoadedModel, load_model

if TYPE_CHECKING:
    from shipyard.capture import CaptureWriter
    from shipyard.entities import DatasetVersion
    from shipyard.model import Predictions, TabularModel

__all__ = ["COMPARE_ROWS", "MAX_BATCH_ROWS", "BatchResult", "batch_transform", "score_batch"]

MAX_BATCH_ROWS = 10_000_000
"""The most rows per batch: past it one batch no longer fits comfortably in a laptop's memory."""


COMPARE_ROWS = 5_000
"""Rows sampled from the input and from the model's training data to compare them."""


@dataclass(frozen=True)
class BatchResult(Published):
    """The scored version, and how the input compares with the model's training data
    (:func:`shipyard.analyze.compare_datasets`; ``{"status": "not checked", "message"}``
    when it could not be compared)."""

    comparison: dict[str, Any] | None = None


def batch_transform(
    project: Project,
    model_ref: str,
    input_ref: str,
    output_name: str,
    *,
    batch_rows: int | None = None,
    capture: bool = False,
    progress: Callable[[int, int], None] | None = None,
    backend: str = "local",
    ray_address: str | None = None,
) -> BatchResult:
    """Score every row of ``input_ref`` with ``model_ref`` into dataset ``output_name``.

    The output has the input's columns plus those of
    :meth:`~shipyard.model.Predictions.to_arrow`: ``score`` (P(positive), a struct of class
    probabilities, or the value) and ``decision`` (the class label; none for regression),
    the same fields the inference server answers with.
    Rows stream through in batches of ``batch_rows`` (default: the ``batch_rows`` setting),
    so memory stays flat whatever the dataset's size.

    With ``capture``, every scored row is also captured, in the inference server's format
    (:mod:`shipyard.capture`), batch by batch as it is scored; the rows' ``request_id``
    column, if the input has one, becomes the captured request id.

    With ``backend="ray"``, Ray Data's ``map_batches`` scores the dataset's Parquet files on
    the Ray cluster at ``ray_address`` (default: the ``ray_address`` setting; unset starts
    Ray here), with the same output (see :mod:`shipyard.deploy._ray_batch`).

    The output's prediction columns are marked as written by Shipyard (Parquet field
    metadata), so training leaves them out of the features unless asked. The input is
    compared with the model's training data (5,000 sampled rows each, the model's input
    columns): is what it scores like what it learned from?

    Raises:
        NotFound: The model, alias or dataset does not exist.
        InvalidInput: The dataset lacks a column the model needs, ``batch_rows`` is not a
            whole number from 1 to ``MAX_BATCH_ROWS``, the backend is unknown, or capture is
            asked of the ray backend.
        BackendUnavailable: ``backend="ray"`` and Ray is not installed (the message gives
            the install command) or its cluster cannot be reached.
    """
    validate_name(output_name)
    _check_backend(backend, capture)
    if batch_rows is not None:
        _check_batch_rows(batch_rows)
    rows_per_batch = batch_rows or project.settings.batch_rows
    loaded = load_model(project, model_ref)
    ref = parse_dataset_ref(input_ref)
    source = project.catalog.get_dataset_version(ref.name, ref.version)
    _check_columns(loaded, source)
    capturer = _capture_writer(project, loaded) if capture else None
    try:
        with project.lake.staging() as staged:
            if backend == "ray":
                from shipyard.deploy._ray_batch import score_on_ray

                score_on_ray(
                    project, loaded.model, source, staged, rows_per_batch,
                    address=ray_address, progress=progress, written=_written(loaded),
                )  # fmt: skip
            else:
                _score_into(
                    project, loaded.model, source, staged, rows_per_batch, capturer, progress,
                    _written(loaded),
                )  # fmt: skip
            published = publish_staged(
                project.catalog,
                project.lake,
                staged,
                output_name,
                source=f"batch:{loaded.version.ref} on {source.ref}",
                actor=project.actor,
            )
    finally:
        if capturer is not None:
            capturer.close()
    comparison = _compare_with_training(project, loaded, source)
    return BatchResult(published.version, published.unchanged, comparison)


def _written(loaded: LoadedModel) -> str:
    """What the prediction columns' "written by Shipyard" mark says made them."""
    return f"of {loaded.version.ref}, by batch transform"


def _compare_with_training(
    project: Project, loaded: LoadedModel, source: DatasetVersion
) -> dict[str, Any]:
    """The batch input against the model's training data, on the model's inputs; stored with
    the model version too (kind ``compare:batch``) for ``shipyard pitfalls MODEL``."""
    from shipyard.analyze import compare_datasets

    version = loaded.version
    training = version.lineage.get("dataset")
    columns = [c["name"] for c in loaded.model.signature["inputs"]]
    if not training:
        return {
            "status": "not checked",
            "message": f"{version.ref} names no training dataset in its lineage.",
        }
    try:
        report = compare_datasets(
            project, training, source.ref, columns=columns, max_rows=COMPARE_ROWS
        )
    except ShipyardError as exc:
        return {"status": "not checked", "message": f"Not compared with {training}: {exc.message}"}
    project.catalog.put_report(
        version.ref, "compare:batch", report, html_uri=None, actor=project.actor
    )
    return report


def _score_into(
    project: Project,
    model: TabularModel,
    source: DatasetVersion,
    staged: Path,
    rows_per_batch: int,
    capturer: CaptureWriter | None,
    progress: Callable[[int, int], None] | None,
    written: str,
) -> None:
    """Stream ``source`` through ``model`` into ``staged/part-0.parquet`` (and the capture);
    the prediction columns are marked as written by Shipyard (``written`` says by what)."""
    con = duckdb.connect()
    done = 0
    writer: pq.ParquetWriter | None = None
    try:
        reader = con.sql(
            f"SELECT * FROM read_parquet('{quote_literal(project.lake.glob(source))}')"
        ).to_arrow_reader(rows_per_batch)
        for batch in reader:
            started = time.perf_counter()
            table, predictions = score_batch(model, batch, written=written)
            if capturer is not None:
                per_row = (time.perf_counter() - started) * 1e3 / max(batch.num_rows, 1)
                capturer.write_table(
                    pa.Table.from_batches([batch]),
                    predictions.scores,
                    predictions.labels(),
                    latency_ms=per_row,
                )
            if writer is None:
                writer = pq.ParquetWriter(
                    staged / "part-0.parquet", table.schema, compression="zstd"
                )
            writer.write_table(table)
            done += batch.num_rows
            if progress:
                progress(done, source.num_rows)
    finally:
        if writer is not None:
            writer.close()
        con.close()


def _capture_writer(project: Project, loaded: LoadedModel) -> CaptureWriter:
    from shipyard.capture import CaptureWriter

    version = loaded.version
    return CaptureWriter.from_settings(
        project.artifacts, project.settings, version.name, version.version, loaded.model.signature
    )


def _check_backend(backend: str, capture: bool) -> None:
    if check_backend(backend) == "ray":
        if capture:
            raise InvalidInput(
                "Capture records rows as this process scores them; with --backend ray they "
                "are scored on the cluster. Drop --capture, or score with --backend local."
            )
        require_ray()  # before anything is read: without Ray, say so at once


def _check_columns(loaded: LoadedModel, source: DatasetVersion) -> None:
    have = {c.name for c in source.columns}
    missing = [c["name"] for c in loaded.model.signature["inputs"] if c["name"] not in have]
    if missing:
        raise InvalidInput(
            f"Dataset {source.ref} lacks column(s) {', '.join(missing)} that model "
            f"{loaded.version.ref} needs. Nothing was scored.",
            details={"missing": missing},
        )


def _check_batch_rows(batch_rows: object) -> None:
    ok = isinstance(batch_rows, int) and not isinstance(batch_rows, bool)
    if not ok or not 1 <= batch_rows <= MAX_BATCH_ROWS:  # type: ignore[operator]
        raise InvalidInput(
            "The 'batch_rows' parameter of batch_transform must be a whole number from 1 to "
            f"{MAX_BATCH_ROWS:,}. Got {batch_rows!r} instead. Leave it out to use the "
            "batch_rows setting."
        )


def score_batch(
    model: TabularModel, batch: pa.RecordBatch, *, threads: int = 0, written: str | None = None
) -> tuple[pa.Table, Predictions]:
    """The batch's columns, then the prediction's (``score``, ``decision``); and the
    predictions themselves. ``threads``: of the model's prediction (0: all cores). With
    ``written``, the prediction columns are marked as written by Shipyard: ``<name>
    <written>``, e.g. ``score of fraud:3, by batch transform``."""
    result = model.predict_frame(batch.to_pandas(), threads=threads)
    predictions = result.to_arrow()
    table = pa.Table.from_batches([batch])
    for name in predictions.column_names:  # an input column of the same name is replaced
        if name in table.column_names:
            table = table.drop_columns([name])
        table = table.append_column(name, predictions.column(name))
    if written is not None:
        marks = {name: f"{name} {written}" for name in predictions.column_names}
        table = mark_written(table, marks)
    return table, result
