"""Train: splits, the feature encoder, model families, evaluation, the training job."""

from __future__ import annotations

from shipyard.train.families import FAMILIES, Family, FitResult, get_family
from shipyard.train.features import FeatureEncoder
from shipyard.train.job import TrainResult, train
from shipyard.train.metrics import evaluate
from shipyard.train.model import Predictions, TabularModel
from shipyard.train.problem import Problem, infer_problem
from shipyard.train.split import Split, split_frame

__all__ = [
    "FAMILIES",
    "Family",
    "FeatureEncoder",
    "FitResult",
    "Predictions",
    "Problem",
    "Split",
    "TabularModel",
    "TrainResult",
    "evaluate",
    "get_family",
    "infer_problem",
    "split_frame",
    "train",
]
