"""The ensemble as a model family: a weighted mean of fitted members of other families."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from shipyard.errors import InvalidInput
from shipyard.model.families import Family, FitData, FitResult, IterationHook, relinked
from shipyard.types import ProblemType

__all__ = ["EnsembleEstimator", "EnsembleFamily"]


@dataclass
class EnsembleEstimator:
    """Fitted members and their weights; scores are the weighted mean of member scores."""

    members: list[tuple[Family, Any, float]]
    problem: ProblemType | None = None  # None in bundles made before explanations


class AssembledFamily(Family):
    """A family whose models AutoML assembles from fitted models of other families: it is
    never fit, and has no search space of its own."""

    defaults: ClassVar[dict[str, Any]] = {}
    called: ClassVar[str] = "An assembled model"  # how messages name it

    def fit(
        self,
        data: FitData,
        params: dict[str, Any] | None = None,
        seed: int = 0,
        *,
        on_iteration: IterationHook | None = None,
        threads: int = 0,
    ) -> FitResult:
        raise InvalidInput(
            f"{self.called} is assembled by AutoML from fitted models; it cannot be fit "
            "directly. Pass time_budget to train() to get one."
        )

    def suggest(self, trial: Any, problem: ProblemType) -> dict[str, Any]:
        raise InvalidInput(f"{self.called} has no search space of its own.")


class EnsembleFamily(AssembledFamily):
    """A weighted average of fitted models of other families (built by AutoML, not fit)."""

    name = "ensemble"
    called: ClassVar[str] = "An ensemble"

    def predict(self, estimator: Any, x: np.ndarray, *, threads: int = 0) -> np.ndarray:
        out: np.ndarray | None = None
        for family, member, weight in estimator.members:
            scores = weight * family.predict(member, x, threads=threads)
            out = scores if out is None else out + scores
        return np.asarray(out)

    def upgrade(self, estimator: Any) -> Any:
        estimator.members = [(f, f.upgrade(m), w) for f, m, w in estimator.members]
        return estimator

    def importance(self, estimator: Any, n_features: int) -> np.ndarray | None:
        out = np.zeros(n_features)
        for family, member, weight in estimator.members:
            share = family.importance(member, n_features)
            if share is not None:
                out += weight * share
        return out if out.sum() > 0 else None

    def contributions(self, estimator: Any, x: np.ndarray) -> np.ndarray | None:
        """Exact additive contributions to the ensemble's score (probabilities, or values
        for regression), or None when a member cannot explain.

        Each member's raw-score contributions are rescaled so that they sum to its score
        minus its score at the base value (for regression the scale is 1), then weighted: the
        result sums exactly to the weighted mean of member scores, as :meth:`predict` does.
        """
        problem = getattr(estimator, "problem", None)
        if problem is None:
            return None
        out: np.ndarray | None = None
        for family, member, weight in estimator.members:
            contrib = family.contributions(member, x)
            if contrib is None:
                return None
            if problem != "regression":
                contrib = _to_probability(contrib, family.predict(member, x, threads=1))
            out = weight * contrib if out is None else out + weight * contrib
        return out

    def raw_score(self, estimator: Any, x: np.ndarray) -> np.ndarray:
        """The ensemble's own score (n, k): what its contributions add up to."""
        scores = self.predict(estimator, x, threads=1)
        return np.asarray(scores, dtype=np.float64).reshape(len(x), -1)


def _to_probability(contrib: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Rescale raw-score contributions (n, k, w + 1) so they sum to probabilities ``scores``.

    The base becomes the probability at the base margin (sigmoid, or softmax over classes);
    the feature terms share ``p - p(base)`` in proportion to their raw contributions. Where
    the features add nothing to the margin, the slope of the link at the base is used.
    """
    base = contrib[:, :, -1]
    if base.shape[1] == 1:
        p = np.asarray(scores, dtype=np.float64).reshape(-1, 1)
        p_base = 1.0 / (1.0 + np.exp(-base))
    else:
        p = np.asarray(scores, dtype=np.float64)
        shifted = np.exp(base - base.max(axis=1, keepdims=True))
        p_base = shifted / shifted.sum(axis=1, keepdims=True)
    return relinked(contrib, p, p_base, p_base * (1.0 - p_base))
