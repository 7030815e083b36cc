"""The rows a model version was tested on, read back from the dataset version its lineage
names: training records their positions in the bundle (``lineage["held_out"]``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from shipyard.catalog.refs import parse_dataset_ref
from shipyard.entities import ModelVersion
from shipyard.errors import IntegrityError, NotFound
from shipyard.project import Project

__all__ = ["held_out_positions", "held_out_rows"]


def held_out_positions(version: ModelVersion, bundle: Path) -> np.ndarray | None:
    """The positions of the version's test rows in its dataset version, or None when it
    records none (trained before Shipyard recorded them).

    Raises:
        IntegrityError: The bundle names a held-out file it does not hold.
    """
    entry = version.lineage.get("held_out")
    if not isinstance(entry, dict) or "file" not in entry:
        return None
    try:
        table = pq.read_table(bundle / str(entry["file"]), columns=["row"])
    except (OSError, KeyError, ValueError) as exc:
        raise IntegrityError(
            f"Model version {version.ref} names its held-out rows in {entry['file']}, which its "
            f"bundle does not hold readably ({exc}). Register the model again."
        ) from exc
    return np.asarray(table.column("row").to_numpy(), dtype=np.int64)


def held_out_rows(data_project: Project, version: ModelVersion, bundle: Path) -> pd.DataFrame:
    """The version's test rows, every column of its dataset version, in training's order.

    Args:
        data_project: The project whose catalog and lake hold the dataset (where it was
            trained).
        bundle: The version's verified bundle folder.

    Raises:
        NotFound: The version records no held-out rows, or its dataset version is gone.
        IntegrityError: The dataset read back is not the one training used (its fingerprint
            or its row count differ).
    """
    positions = held_out_positions(version, bundle)
    if positions is None:
        raise NotFound(
            f"Model version {version.ref} records no held-out rows (it was trained before "
            "Shipyard recorded them), so no other model can be scored on its test set. "
            "Train it again."
        )
    ref = parse_dataset_ref(str(version.lineage["held_out"].get("dataset", "")))
    dataset = data_project.catalog.get_dataset_version(ref.name, ref.version)
    recorded = version.lineage.get("dataset_fingerprint")
    if recorded and recorded != dataset.fingerprint:
        raise IntegrityError(
            f"Dataset {dataset.ref} is not the one {version.ref} was trained on: its content "
            f"fingerprint is {dataset.fingerprint[:12]}, training recorded {recorded[:12]}."
        )
    frame = data_project.lake.read_frame(dataset)
    if len(positions) and (positions.min() < 0 or positions.max() >= len(frame)):
        raise IntegrityError(
            f"The held-out rows of {version.ref} point past the {len(frame):,} rows of "
            f"{dataset.ref}; the dataset read back is not the one training used."
        )
    return frame.iloc[positions].reset_index(drop=True)
