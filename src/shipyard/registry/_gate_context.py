"""What the promotion gates look at: the candidate, where it comes from and where it goes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from shipyard.entities import ModelVersion
from shipyard.project import Project
from shipyard.registry._held_out import held_out_rows
from shipyard.registry.registry import LoadedModel, load_version

__all__ = ["BASELINE_REPORT", "GateContext"]

BASELINE_REPORT = "baseline"
"""The catalog report kind of a monitoring baseline (``shipyard.monitor.BASELINE_KIND``)."""


@dataclass
class GateContext:
    """A candidate version, where it comes from and where it goes; the model and its scores
    on its held-out rows load once, for the gates that need them.

    Args:
        data_project: The project whose catalog and lake hold the training datasets.
        source: The project whose catalog holds the candidate.
        target: The environment's project (its catalog holds the champion).
    """

    data_project: Project
    source: Project
    target: Project
    environment: str
    candidate: ModelVersion

    @cached_property
    def loaded(self) -> LoadedModel:
        return load_version(self.source, self.candidate)

    @cached_property
    def held_out(self) -> pd.DataFrame:
        return held_out_rows(self.data_project, self.candidate, self.loaded.path)

    @cached_property
    def scores(self) -> np.ndarray:
        return np.asarray(self.loaded.model.predict_frame(self.held_out).scores)
