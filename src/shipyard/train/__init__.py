"""Train: honest splits with leakage checks, the training job, the decision threshold.

:func:`train` turns a dataset version into an evaluated, registered model version: one fit
of one family, or an AutoML search (:mod:`shipyard.automl`) under a time budget.
"""

from __future__ import annotations

from shipyard.train._diagnostics import diagnose
from shipyard.train._job import TrainResult, train
from shipyard.train._memory import MemoryEstimate, estimate_training_memory
from shipyard.train._prepare import DataChecks, check_training_data
from shipyard.train._spec import DecisionSpec, ReportSpec, SearchSpec, SplitSpec, TrainSpec
from shipyard.train._split import Split, split_dataset, split_frame
from shipyard.train._threshold import choose_threshold

__all__ = [
    "DataChecks",
    "DecisionSpec",
    "MemoryEstimate",
    "ReportSpec",
    "SearchSpec",
    "Split",
    "SplitSpec",
    "TrainResult",
    "TrainSpec",
    "check_training_data",
    "choose_threshold",
    "diagnose",
    "estimate_training_memory",
    "split_dataset",
    "split_frame",
    "train",
]
