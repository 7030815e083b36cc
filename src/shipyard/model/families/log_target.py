"""Log twins: a booster fit on log(1 + y) that predicts in y's own units.

Prices, amounts and counts are skewed and their effects multiply. A tree model of y spends
its splits on the few large values; one of log(1 + y) fits the many multiplicative ones.
Neither wins everywhere, and they err differently: an AutoML regression on a skewed,
non-negative target searches both (:mod:`shipyard.train._target`), and the ensemble mixes
them. On ``diamonds`` 60 s searches at seeds 0, 1, 2 scored a test RMSE of 523.8, 529.3,
526.7 with twins against 526.9, 533.8, 526.7 on y alone (``benchmarks/automl.py``), and on
the five skewed regression tables the portfolio is learned from, 30 s searches with twins
scored a lower test RMSE on 19 of 25 seeded splits, 2.0% lower on average
(``benchmarks/log_twins.py``).

A twin's estimator maps its log-scale scores back with Duan's smearing factor
(:func:`shipyard.model.smearing_calibrator`), learned on the fit's validation rows. A refit
on everything has none: it keeps the factor of the trial it refits (``smearing`` in its
parameters). Everything else (search space, portfolio, refit rounds, importance) is the
booster's own, and explanations are rescaled to add up to the prediction in y's units.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np

from shipyard.errors import InvalidInput
from shipyard.model.calibration import Calibrator, smearing_calibrator
from shipyard.model.families._base import Family, FitData, FitResult, IterationHook, relinked
from shipyard.model.families.catboost import CatBoostFamily
from shipyard.model.families.lightgbm import LightGBMFamily
from shipyard.model.families.xgboost import XGBoostFamily
from shipyard.types import ProblemType

__all__ = ["LOG_TWINS", "LogTargetEstimator", "LogTwin", "log_twin_of", "twinned"]

_SMEARING = "smearing"  # the parameter a refit carries its trial's factor in


@dataclass
class LogTargetEstimator:
    """The booster's estimator on log(1 + y), and the map of its scores back to y."""

    inner: Any
    back: Calibrator


class LogTwin(Family):
    """A family fit on log(1 + y) whose scores are values of y (regression only)."""

    inner: ClassVar[Family]
    suffix: ClassVar[str] = "_log"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A twin sizes its refits and threads as the booster it wraps does."""
        super().__init_subclass__(**kwargs)
        cls.iterative = type(cls.inner).iterative
        cls.thread_scaling = type(cls.inner).thread_scaling

    def defaults_for(self, problem: ProblemType) -> dict[str, Any]:
        return self.inner.defaults_for(problem)

    def fit(
        self,
        data: FitData,
        params: dict[str, Any] | None = None,
        seed: int = 0,
        *,
        on_iteration: IterationHook | None = None,
        threads: int = 0,
    ) -> FitResult:
        if data.problem != "regression":
            raise InvalidInput(
                f"{self.name} models log(1 + y) of a regression target; this is a "
                f"{data.problem} problem. Use {self.inner.name}."
            )
        if float(np.min(data.y_train)) < 0:
            raise InvalidInput(
                f"{self.name} models log(1 + y), which needs y >= 0, and the target goes "
                f"down to {float(np.min(data.y_train)):g}. Use {self.inner.name}."
            )
        given = dict(params or {})
        carried = given.pop(_SMEARING, None)
        logged = replace(
            data,
            y_train=np.log1p(data.y_train),
            y_valid=None if data.y_valid is None else np.log1p(data.y_valid),
        )
        fit = self.inner.fit(logged, given, seed, on_iteration=on_iteration, threads=threads)
        if carried is not None:
            back = Calibrator("exp", slope=float(carried), intercept=-1.0)
        else:  # validation rows when there are any, else (a plain fit) the training rows
            x, y = (
                (data.x_train, data.y_train)
                if data.x_valid is None or data.y_valid is None
                else (data.x_valid, data.y_valid)
            )
            back = smearing_calibrator(y, self.inner.predict(fit.estimator, x, threads=threads))
        return replace(
            fit,
            estimator=LogTargetEstimator(fit.estimator, back),
            params={**fit.params, _SMEARING: back.slope},
        )

    def predict(self, estimator: Any, x: np.ndarray, *, threads: int = 0) -> np.ndarray:
        return estimator.back.apply(self.inner.predict(estimator.inner, x, threads=threads))

    def suggest(self, trial: Any, problem: ProblemType) -> dict[str, Any]:
        return self.inner.suggest(trial, problem)

    def refit_params(self, fit: FitResult, grow: float = 1.0) -> dict[str, Any]:
        return self.inner.refit_params(fit, grow)

    def upgrade(self, estimator: Any) -> Any:
        estimator.inner = self.inner.upgrade(estimator.inner)
        return estimator

    def importance(self, estimator: Any, n_features: int) -> np.ndarray | None:
        return self.inner.importance(estimator.inner, n_features)

    def contributions(self, estimator: Any, x: np.ndarray) -> np.ndarray | None:
        """The booster's log-scale contributions rescaled to add up to the prediction in
        y's units: the base becomes the value at the base score, and the features share
        what moves the prediction from there in proportion to their log-scale terms."""
        contrib = self.inner.contributions(estimator.inner, x)
        if contrib is None:
            return None
        value = estimator.back.apply(contrib.sum(axis=2))
        value_base = estimator.back.apply(contrib[:, :, -1])
        return relinked(contrib, value, value_base, value_base + 1.0)  # d/ds (a e^s - 1)

    def raw_score(self, estimator: Any, x: np.ndarray) -> np.ndarray:
        """The prediction (n, 1): what :meth:`contributions` add up to."""
        return self.predict(estimator, x, threads=1).reshape(len(x), -1)

    def tree_stats(self, estimator: Any, params: dict[str, Any]) -> dict[str, Any] | None:
        return self.inner.tree_stats(estimator.inner, params)


class LightGBMLog(LogTwin):
    name = "lightgbm_log"
    inner = LightGBMFamily()


class XGBoostLog(LogTwin):
    name = "xgboost_log"
    inner = XGBoostFamily()


class CatBoostLog(LogTwin):
    name = "catboost_log"
    inner = CatBoostFamily()


LOG_TWINS: dict[str, type[LogTwin]] = {
    cls.name: cls for cls in (LightGBMLog, XGBoostLog, CatBoostLog)
}
"""The twins by name; a twin is searched right after the family it twins."""


def log_twin_of(family: str) -> str | None:
    """The name of ``family``'s log twin, or None when it has none."""
    name = family + LogTwin.suffix
    return name if name in LOG_TWINS else None


def twinned(family: str) -> str:
    """The family a log twin twins (whose portfolio and search space it shares), or
    ``family`` itself."""
    twin = LOG_TWINS.get(family)
    return family if twin is None else twin.inner.name
