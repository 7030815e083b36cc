"""The stacked model as a family: a linear level-1 learner over the link-space scores of
fitted members of other families.

Where the ensemble averages probabilities with convex weights, the stacker adds each
member's log-odds (binary), log-probabilities (multiclass) or value (regression) with a
learned weight, plus a bias per class, and applies the link: a weight above one sharpens an
under-confident member, a negative one corrects a shared bias. It has as many parameters as
members (plus the biases), so it is fit on validation predictions without overfitting
them, and AutoML keeps it only when it wins out of fold (``shipyard.automl``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from shipyard.model.ensemble import AssembledFamily, _to_probability
from shipyard.model.families import Family
from shipyard.types import ProblemType

__all__ = ["EPS", "StackedEstimator", "StackedFamily", "link_features", "stack_scores"]

EPS = 1e-7
"""Probabilities are clipped to [EPS, 1 - EPS] before their logarithm."""


def link_features(problem: ProblemType, scores: np.ndarray) -> np.ndarray:
    """One member's scores in the stacker's space, as (n, k): log-odds (k = 1), log
    class probabilities (k classes) or values (k = 1)."""
    values = np.asarray(scores, dtype=np.float64)
    if problem == "regression":
        return values.reshape(len(values), 1)
    clipped = np.clip(values, EPS, 1.0 - EPS)
    if problem == "binary":
        return np.log(clipped / (1.0 - clipped)).reshape(len(values), 1)
    return np.log(clipped)


def stack_scores(
    problem: ProblemType, features: list[np.ndarray], weights: np.ndarray, bias: np.ndarray
) -> np.ndarray:
    """Scores of the stack from its members' :func:`link_features`: P(positive) (n,),
    class probabilities (n, k) or values (n,)."""
    margin = np.asarray(bias, dtype=np.float64)[None, :] + sum(
        w * f for w, f in zip(weights, features, strict=True)
    )
    if problem == "regression":
        return np.asarray(margin[:, 0])
    if problem == "binary":
        return np.asarray(1.0 / (1.0 + np.exp(-margin[:, 0])))
    shifted = np.exp(margin - margin.max(axis=1, keepdims=True))
    return np.asarray(shifted / shifted.sum(axis=1, keepdims=True))


@dataclass
class StackedEstimator:
    """Fitted members with their level-1 weights, and the level-1 bias per class."""

    members: list[tuple[Family, Any, float]]
    bias: np.ndarray
    problem: ProblemType


class StackedFamily(AssembledFamily):
    """A linear stack over fitted models of other families (built by AutoML, not fit)."""

    name = "stack"
    called: ClassVar[str] = "A stacked model"

    def predict(self, estimator: Any, x: np.ndarray, *, threads: int = 0) -> np.ndarray:
        features = [
            link_features(estimator.problem, family.predict(member, x, threads=threads))
            for family, member, _ in estimator.members
        ]
        weights = np.array([w for _, _, w in estimator.members])
        return stack_scores(estimator.problem, features, weights, estimator.bias)

    def upgrade(self, estimator: Any) -> Any:
        estimator.members = [(f, f.upgrade(m), w) for f, m, w in estimator.members]
        return estimator

    def importance(self, estimator: Any, n_features: int) -> np.ndarray | None:
        out = np.zeros(n_features)
        for family, member, weight in estimator.members:
            share = family.importance(member, n_features)
            if share is not None:
                out += abs(weight) * share
        total = out.sum()
        return out / total if total > 0 else None

    def contributions(self, estimator: Any, x: np.ndarray) -> np.ndarray | None:
        """Exact additive contributions to the stack's score (probabilities, or values for
        regression), or None when a member cannot explain.

        The stack's margin is linear in its members' margins, so their raw-score
        contributions, weighted, plus the bias, are contributions to the stack's margin;
        for classification they are then rescaled to the stack's probability as the
        ensemble does, so they sum exactly to :meth:`predict`.
        """
        out: np.ndarray | None = None
        for family, member, weight in estimator.members:
            contrib = family.contributions(member, x)
            if contrib is None:
                return None
            out = weight * contrib if out is None else out + weight * contrib
        if out is None:
            return None
        out[:, :, -1] += np.asarray(estimator.bias, dtype=np.float64)[None, :]
        if estimator.problem == "regression":
            return out
        return _to_probability(out, self.predict(estimator, x, threads=1))

    def raw_score(self, estimator: Any, x: np.ndarray) -> np.ndarray:
        """The stack's own score (n, k): what its contributions add up to."""
        scores = self.predict(estimator, x, threads=1)
        return np.asarray(scores, dtype=np.float64).reshape(len(x), -1)
