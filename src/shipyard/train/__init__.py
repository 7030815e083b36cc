"""Train: splits, the feature encoder, model families, AutoML, evaluation, the training job."""

from __future__ import annotations

from shipyard.train._evaluation_text import flagged_slices, threshold_reading
from shipyard.train.automl import METRICS, SearchProgress, choose_metric
from shipyard.train.calibration import Calibrator, fit_calibrator
from shipyard.train.console import print_evaluation_summary
from shipyard.train.diagnostics import diagnose
from shipyard.train.evaluation import evaluate_test
from shipyard.train.evaluation_html import render_evaluation_html
from shipyard.train.families import FAMILIES, Family, FitResult, get_family
from shipyard.train.features import FeatureEncoder
from shipyard.train.job import TrainResult, train
from shipyard.train.metrics import evaluate
from shipyard.train.model import Predictions, TabularModel
from shipyard.train.problem import Problem, infer_problem
from shipyard.train.reports import StoredEvaluation, evaluation_html, load_evaluation
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
    "StoredEvaluation",
    "TabularModel",
    "TrainResult",
    "choose_metric",
    "choose_threshold",
    "diagnose",
    "evaluate",
    "evaluate_test",
    "evaluation_html",
    "fit_calibrator",
    "flagged_slices",
    "get_family",
    "infer_problem",
    "load_evaluation",
    "print_evaluation_summary",
    "render_evaluation_html",
    "split_dataset",
    "split_frame",
    "threshold_reading",
    "train",
]
