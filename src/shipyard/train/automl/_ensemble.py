"""Greedy ensemble selection (Caruana et al., 2004) and the ensemble as a model family."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

import numpy as np

from shipyard.errors import InvalidInput
from shipyard.train.families import Family, FitData, FitResult, IterationHook
from shipyard.types import ProblemType

__all__ = ["EnsembleEstimator", "EnsembleFamily", "caruana_select"]


def caruana_select(
    predictions: Sequence[np.ndarray],
    score: Callable[[np.ndarray], float],
    *,
    higher_is_better: bool,
    rounds: int = 30,
    max_members: int = 3,
) -> tuple[dict[int, float], float]:
    """Weights over ``predictions`` that score best on validation, and that score.

    Starts from the best single model and adds, with replacement, the member that improves
    the averaged prediction most; keeps the best mix seen. At most ``max_members``
    distinct models take part (each adds its latency to a prediction). The result is never
    worse on validation than the best single model (it *is* that model when nothing helps).
    """
    if not predictions:
        raise InvalidInput("Ensemble selection needs at least one model's predictions.")
    sign = 1.0 if higher_is_better else -1.0
    singles = [sign * score(p) for p in predictions]
    first = int(np.argmax(singles))
    total = predictions[first].astype(np.float64).copy()
    counts = {first: 1}
    best_value, best_counts = singles[first], dict(counts)
    for _ in range(rounds):
        size = sum(counts.values()) + 1
        allowed = range(len(predictions)) if len(counts) < max_members else sorted(counts)
        trial_values = [
            sign * score((total + predictions[i]) / size) if i in allowed else -np.inf
            for i in range(len(predictions))
        ]
        pick = int(np.argmax(trial_values))
        total += predictions[pick]
        counts[pick] = counts.get(pick, 0) + 1
        if trial_values[pick] > best_value + 1e-12:
            best_value, best_counts = trial_values[pick], dict(counts)
    size = sum(best_counts.values())
    return {i: c / size for i, c in sorted(best_counts.items())}, sign * best_value


@dataclass
class EnsembleEstimator:
    """Fitted members and their weights; scores are the weighted mean of member scores."""

    members: list[tuple[Family, Any, float]]
    problem: ProblemType | None = None  # None in bundles made before explanations


class EnsembleFamily(Family):
    """A weighted average of fitted models of other families (built by AutoML, not fit)."""

    name = "ensemble"
    defaults: ClassVar[dict[str, Any]] = {}

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
            "An ensemble is assembled by AutoML from fitted models; it cannot be fit directly. "
            "Pass time_budget to train() to get one."
        )

    def suggest(self, trial: Any, problem: ProblemType) -> dict[str, Any]:
        raise InvalidInput("An ensemble has no search space of its own.")

    def predict(self, estimator: Any, x: np.ndarray, *, threads: int = 0) -> np.ndarray:
        out: np.ndarray | None = None
        for family, member, weight in estimator.members:
            scores = weight * family.predict(member, x, threads=threads)
            out = scores if out is None else out + scores
        return np.asarray(out)

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
    margin = contrib.sum(axis=2)  # (n, k)
    base = contrib[:, :, -1]
    if margin.shape[1] == 1:
        p = np.asarray(scores, dtype=np.float64).reshape(-1, 1)
        p_base = 1.0 / (1.0 + np.exp(-base))
    else:
        p = np.asarray(scores, dtype=np.float64)
        shifted = np.exp(base - base.max(axis=1, keepdims=True))
        p_base = shifted / shifted.sum(axis=1, keepdims=True)
    moved = margin - base
    flat = np.abs(moved) < 1e-12
    slope = np.where(flat, p_base * (1.0 - p_base), (p - p_base) / np.where(flat, 1.0, moved))
    out = contrib * slope[:, :, None]
    out[:, :, -1] = p_base
    return out


def holds_out(
    predictions: Sequence[np.ndarray],
    y: np.ndarray,
    score: Callable[[np.ndarray, np.ndarray], float],
    *,
    higher_is_better: bool,
    stratify: bool,
    seed: int = 0,
) -> bool:
    """Whether ensemble selection beats picking the best single model on rows it did not see.

    Weights chosen on the same validation rows they are scored on look better than they are,
    most of all on small validation sets. This cross-fits: choose the ensemble and the best
    single model on one half of the rows, compare them on the other half, then swap. The
    ensemble holds when it gains on both held-out halves.
    """
    rng = np.random.default_rng(seed)
    if stratify:  # each half keeps both classes, so ranking metrics stay defined
        order = np.concatenate([rng.permutation(np.flatnonzero(y == c)) for c in np.unique(y)])
        halves = (order[0::2], order[1::2])
    else:
        order = rng.permutation(len(y))
        halves = (order[: len(y) // 2], order[len(y) // 2 :])
    sign = 1.0 if higher_is_better else -1.0
    gains = []
    for fit_rows, check_rows in (halves, halves[::-1]):
        fitted = [p[fit_rows] for p in predictions]
        y_fit = y[fit_rows]
        weights, _ = caruana_select(
            fitted, partial(score, y_fit), higher_is_better=higher_is_better
        )
        best = max(range(len(fitted)), key=lambda i: sign * score(y_fit, fitted[i]))
        mix = sum(w * predictions[i][check_rows] for i, w in weights.items())
        single = predictions[best][check_rows]
        gains.append(sign * (score(y[check_rows], np.asarray(mix)) - score(y[check_rows], single)))
    if not np.isfinite(gains).all():
        return True  # a metric undefined on a half: no verdict, keep the usual choice
    return min(gains) > 0
