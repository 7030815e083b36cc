"""AutoML: a time-budgeted Optuna search over model families, with greedy ensembling."""

from __future__ import annotations

from shipyard.train.automl._budget import MIN_BUDGET, Budget, Clock
from shipyard.train.automl._ensemble import EnsembleEstimator, EnsembleFamily, caruana_select
from shipyard.train.automl._metrics import METRICS, choose_metric, score
from shipyard.train.automl._pruner import FamilyMedianPruner
from shipyard.train.automl._study import StudyStorage, study_storage
from shipyard.train.automl.ray_search import RaySearch, search_on_ray
from shipyard.train.automl.search import (
    Candidate,
    SearchData,
    SearchProgress,
    SearchResult,
    TrialLog,
    check_families,
    refit_seconds,
    search,
)

__all__ = [
    "METRICS",
    "MIN_BUDGET",
    "Budget",
    "Candidate",
    "Clock",
    "EnsembleEstimator",
    "EnsembleFamily",
    "FamilyMedianPruner",
    "RaySearch",
    "SearchData",
    "SearchProgress",
    "SearchResult",
    "StudyStorage",
    "TrialLog",
    "caruana_select",
    "check_families",
    "choose_metric",
    "refit_seconds",
    "score",
    "search",
    "search_on_ray",
    "study_storage",
]
