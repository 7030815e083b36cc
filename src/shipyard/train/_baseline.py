"""The monitoring baseline a training job stores with the version it registers."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from shipyard.entities import ModelVersion
from shipyard.errors import ShipyardError, ShipyardWarning
from shipyard.project import Project

if TYPE_CHECKING:
    import pandas as pd

    from shipyard.evaluation import StoredEvaluation
    from shipyard.model import TabularModel

__all__ = ["baseline_seconds", "write_baseline"]


def baseline_seconds(rows: int) -> float:
    """About how long the monitoring baseline takes (measured on 2 busy cores: ~0.5 s, plus
    the dataset's profile at ~4 s per million rows), reserved from a time budget."""
    return 0.5 + 4e-6 * rows


def write_baseline(
    project: Project,
    version: ModelVersion,
    model: TabularModel,
    test_rows: pd.DataFrame,
    evaluation: StoredEvaluation,
    seed: int,
) -> None:
    """Store the version's monitoring baseline (the test rows as the reference: scored out of
    sample, like production). A baseline that cannot be made is a warning, not a failed
    job: `shipyard models baseline MODEL --create` makes it later."""
    from shipyard.monitor import build_baseline

    try:
        build_baseline(project, version, model, test_rows, evaluation=evaluation.payload, seed=seed)
    except ShipyardError as exc:
        warnings.warn(
            f"No monitoring baseline for {version.ref}: {exc.message} Make one later with "
            f"`shipyard models baseline {version.ref} --create`.",
            ShipyardWarning,
            stacklevel=3,
        )
