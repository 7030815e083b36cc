"""The deployable model: what a bundle holds and all that serving needs.

The problem, the feature encoder, calibration, the model families' fitted estimators with
their predict and explain code, the ensemble and the stack, and :class:`TabularModel`, which
scores the same way in training, batch and the server. It imports no room: ``shipyard serve``
loads a model without the training, AutoML or evaluation code. The module paths here are part
of the bundle format (``model.pkl`` names these classes), so they are public and stay put.
"""

from __future__ import annotations

from shipyard.model.anomaly import DETECTORS, AnomalyDetector, AnomalyFamily, AnomalyModel
from shipyard.model.anomaly_feature import ANOMALY_FEATURE, AnomalyFeatureEncoder
from shipyard.model.calibration import (
    CALIBRATIONS,
    Calibrator,
    fit_calibrator,
    smearing_calibrator,
)
from shipyard.model.encoder import ColumnSpec, Encoded, FeatureEncoder, is_text_timestamps
from shipyard.model.ensemble import EnsembleEstimator, EnsembleFamily
from shipyard.model.families import (
    FAMILIES,
    FLAT_FOREST_MAX_NODES,
    LOG_TWINS,
    Family,
    FitData,
    FitResult,
    IterationHook,
    get_family,
    log_twin_of,
    twinned,
)
from shipyard.model.predictions import Predictions
from shipyard.model.problem import Problem, infer_problem
from shipyard.model.stacking import StackedEstimator, StackedFamily
from shipyard.model.tabular import TabularModel

__all__ = [
    "ANOMALY_FEATURE",
    "CALIBRATIONS",
    "DETECTORS",
    "FAMILIES",
    "FLAT_FOREST_MAX_NODES",
    "LOG_TWINS",
    "AnomalyDetector",
    "AnomalyFamily",
    "AnomalyFeatureEncoder",
    "AnomalyModel",
    "Calibrator",
    "ColumnSpec",
    "Encoded",
    "EnsembleEstimator",
    "EnsembleFamily",
    "Family",
    "FeatureEncoder",
    "FitData",
    "FitResult",
    "IterationHook",
    "Predictions",
    "Problem",
    "StackedEstimator",
    "StackedFamily",
    "TabularModel",
    "fit_calibrator",
    "get_family",
    "infer_problem",
    "is_text_timestamps",
    "log_twin_of",
    "smearing_calibrator",
    "twinned",
]
