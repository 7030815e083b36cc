"""Train: splits, the feature encoder, model families, AutoML, evaluation, the training job."""

from __future__ import annotations

from shipyard.train.automl import METRICS, SearchProgress, choose_metric
from shipyard.train.calibration import Calibrator, fit_calibrator
from shipyard.train.diagnostics import diagnose
from shipyard.train.families import FAMILIES, Family, FitResult, get_family
from shipyard.train.features import FeatureEncoder
from shipyard.train.job import TrainResult, train
from shipyard.train.metrics import evaluate
from shipyard.train.model import Predictions, TabularModel
from shipyard.train.problem import Problem, infer_problem
from shipyard.train.split import Split, split_dataset, split_frame
from shipyard.train.threshold import choose_threshold

__all__ = [
    "FAMILIES",
    "METRICS",
    "Calibrator",
    "Family",
    "FeatureEncoder",
    "FitResult",
    "Predictions",
    "Problem",
    "SearchProgress",
    "Split",
    "TabularModel",
    "TrainResult",
    "choose_metric",
    "choose_threshold",
    "diagnose",
    "evaluate",
    "fit_calibrator",
    "get_family",
    "infer_problem",
    "split_dataset",
    "split_frame",
    "train",
]
