"""AutoML: a time-budgeted Optuna search over model families, with greedy ensembling."""

from __future__ import annotations

from shipyard.automl._budget import MAX_BUDGET, MIN_BUDGET, Budget, Clock
from shipyard.automl._cv import CV_MAX_ROWS, Folds, cross_validated, make_folds
from shipyard.automl._ensemble import caruana_select, holds_out
from shipyard.automl._local import parallel_trials, search
from shipyard.automl._metrics import METRICS, choose_metric, score
from shipyard.automl._pruner import FamilyMedianPruner
from shipyard.automl._ray import RaySearch, search_on_ray
from shipyard.automl._search import (
    Candidate,
    SearchData,
    SearchProgress,
    SearchResult,
    TrialLog,
    check_families,
    refit_seconds,
)
from shipyard.automl._study import StudyStorage, study_storage
from shipyard.automl._trial import MEMBERS_MAX_MS

__all__ = [
    "CV_MAX_ROWS",
    "MAX_BUDGET",
    "MEMBERS_MAX_MS",
    "METRICS",
    "MIN_BUDGET",
    "Budget",
    "Candidate",
    "Clock",
    "FamilyMedianPruner",
    "Folds",
    "RaySearch",
    "SearchData",
    "SearchProgress",
    "SearchResult",
    "StudyStorage",
    "TrialLog",
    "caruana_select",
    "check_families",
    "choose_metric",
    "cross_validated",
    "holds_out",
    "make_folds",
    "parallel_trials",
    "refit_seconds",
    "score",
    "search",
    "search_on_ray",
    "study_storage",
]
