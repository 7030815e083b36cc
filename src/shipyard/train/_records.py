"""What a training job records with its model version besides the model: the held-out
(test) rows, as their positions in the dataset version in a bundle file, so that a promotion
gate can score another model on exactly the rows this one was tested on (see
``lineage["held_out"]``); and the monitoring baseline."""

from __future__ import annotations

import io
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from shipyard.entities import ModelVersion
from shipyard.errors import ShipyardError, ShipyardWarning
from shipyard.project import Project

if TYPE_CHECKING:
    from shipyard.model import TabularModel

__all__ = ["HELD_OUT_FILE", "held_out_files", "write_baseline"]

HELD_OUT_FILE = "held_out.parquet"
"""The bundle file listing the test rows: one int64 column ``row``, positions in the dataset
version as the lake reads it (unlabelled rows included)."""


def held_out_files(
    dataset_rows: np.ndarray, dataset: str
) -> tuple[dict[str, bytes], dict[str, Any]]:
    """The bundle file of the test rows at ``dataset_rows`` of ``dataset``, and its lineage
    entry ``{"dataset", "file", "rows"}``."""
    buffer = io.BytesIO()
    pq.write_table(pa.table({"row": np.asarray(dataset_rows, dtype=np.int64)}), buffer)
    entry = {"dataset": dataset, "file": HELD_OUT_FILE, "rows": len(dataset_rows)}
    return {HELD_OUT_FILE: buffer.getvalue()}, entry


def write_baseline(
    project: Project,
    version: ModelVersion,
    model: TabularModel,
    test_rows: pd.DataFrame,
    evaluation: dict[str, Any],
    seed: int,
    budget: float | None = None,
) -> None:
    """Store the version's monitoring baseline (the test rows as the reference: scored out of
    sample, like production); ``budget`` is the job's time budget, which bounds its
    attribution ranking. A baseline that cannot be made is a warning, not a failed
    job: `shipyard models baseline MODEL --create` makes it later."""
    from shipyard.monitor import build_baseline

    try:
        build_baseline(
            project, version, model, test_rows, evaluation=evaluation, seed=seed, budget=budget
        )
    except ShipyardError as exc:
        warnings.warn(
            f"No monitoring baseline for {version.ref}: {exc.message} Make one later with "
            f"`shipyard models baseline {version.ref} --create`.",
            ShipyardWarning,
            stacklevel=2,
        )
