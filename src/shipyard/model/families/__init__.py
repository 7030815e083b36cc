"""Model families: how each one fits on encoded features and predicts scores.

A family turns an encoded matrix into a fitted estimator. AutoML searches over families and
their parameters; a single ``shipyard train`` uses one family with strong defaults.
"""

from __future__ import annotations

from shipyard.errors import InvalidInput, did_you_mean
from shipyard.model.families._base import Family, FitData, FitResult, IterationHook, relinked
from shipyard.model.families._flat_forest import MAX_NODES as FLAT_FOREST_MAX_NODES
from shipyard.model.families.catboost import CatBoostFamily
from shipyard.model.families.forest import ExtraTreesFamily, RandomForestFamily
from shipyard.model.families.lightgbm import LightGBMFamily
from shipyard.model.families.linear import LinearFamily
from shipyard.model.families.log_target import (
    LOG_TWINS,
    LogTargetEstimator,
    LogTwin,
    log_twin_of,
    twinned,
)
from shipyard.model.families.xgboost import XGBoostFamily

__all__ = [
    "FAMILIES",
    "FLAT_FOREST_MAX_NODES",
    "LOG_TWINS",
    "CatBoostFamily",
    "ExtraTreesFamily",
    "Family",
    "FitData",
    "FitResult",
    "IterationHook",
    "LightGBMFamily",
    "LinearFamily",
    "LogTargetEstimator",
    "LogTwin",
    "RandomForestFamily",
    "XGBoostFamily",
    "get_family",
    "log_twin_of",
    "relinked",
    "twinned",
]

FAMILIES: dict[str, type[Family]] = {
    cls.name: cls
    # AutoML tries the defaults in this order: fast and strong first, so that a short
    # budget is spent where it pays.
    for cls in (
        LightGBMFamily,
        LinearFamily,
        XGBoostFamily,
        CatBoostFamily,
        ExtraTreesFamily,
        RandomForestFamily,
    )
}


def get_family(name: str) -> Family:
    """The family called ``name`` (one of :data:`FAMILIES`, or a log twin of one).

    Raises:
        InvalidInput: No such family; the message lists the known ones.
    """
    try:
        return (FAMILIES.get(name) or LOG_TWINS[name])()
    except KeyError:
        raise InvalidInput(
            f"Unknown model family '{name}'.{did_you_mean(name, FAMILIES)} "
            f"Known families: {', '.join(sorted(FAMILIES))}."
        ) from None
