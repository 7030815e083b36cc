"""The family contract: fit on encoded features, predict scores, describe the search space."""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from shipyard.types import ProblemType

if TYPE_CHECKING:
    import optuna

__all__ = [
    "Family",
    "FitData",
    "FitResult",
    "IterationHook",
    "balanced_weights",
    "by_class",
    "normalized",
    "relinked",
]

IterationHook = Callable[[int, float], bool]
"""Called after each boosting round (or chunk of trees) with (iteration, validation loss);
returning True stops the fit there (pruned, or out of time)."""


@dataclass
class FitData:
    """Encoded matrices and targets as a family fits them: train, and the validation part
    that boosters early-stop on (None for a refit on everything)."""

    problem: ProblemType
    n_classes: int
    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray | None
    y_valid: np.ndarray | None
    categorical: list[int]


@dataclass
class FitResult:
    """A fitted estimator, its parameters and its per-iteration learning curves.

    ``stopped`` is None when the fit ran its course (or early-stopped on validation), and
    ``"hook"`` when an :data:`IterationHook` asked it to stop.
    """

    estimator: Any
    params: dict[str, Any]
    curves: dict[str, list[float]] = field(default_factory=dict)
    best_iteration: int | None = None
    fit_seconds: float = 0.0
    stopped: str | None = None


class Family(abc.ABC):
    """A model family: fit on encoded features, predict scores.

    Families are stateless: everything learned lives in the estimator ``fit`` returns, which
    must pickle (the model bundle is a pickle). ``params`` given to ``fit`` override
    ``defaults``; ``balanced: True`` weights classes inversely to their frequency.
    """

    name: ClassVar[str]
    defaults: ClassVar[dict[str, Any]] = {}
    iterative: ClassVar[bool] = False
    """True when ``best_iteration`` fixes the size of a refit (boosters)."""
    thread_scaling: ClassVar[float] = 0.5
    """A fit on ``n`` times the threads runs ``n ** thread_scaling`` times faster (what a
    search assumes of a refit on more threads than its trial had). The square root is a
    cautious default: on adult, 1 -> 2 threads sped LightGBM up 1.2-1.7x."""

    def defaults_for(self, problem: ProblemType) -> dict[str, Any]:
        """The defaults on ``problem`` (the same for every problem unless a family says)."""
        return dict(self.defaults)

    def resolve_params(
        self, params: dict[str, Any] | None, problem: ProblemType
    ) -> tuple[dict[str, Any], bool]:
        """The defaults on ``problem`` overlaid with ``params``, and whether to weight
        classes evenly."""
        chosen = {**self.defaults_for(problem), **(params or {})}
        return chosen, bool(chosen.pop("balanced", False))

    @abc.abstractmethod
    def fit(
        self,
        data: FitData,
        params: dict[str, Any] | None = None,
        seed: int = 0,
        *,
        on_iteration: IterationHook | None = None,
        threads: int = 0,
    ) -> FitResult:
        """Fit, early-stopping on the validation set when one is given.

        Raises:
            InvalidInput: The library rejected the parameters.
        """

    @abc.abstractmethod
    def predict(self, estimator: Any, x: np.ndarray, *, threads: int = 0) -> np.ndarray:
        """Scores: P(positive) for binary, class probabilities (n, k) for multiclass,
        values for regression."""

    @abc.abstractmethod
    def suggest(self, trial: optuna.Trial, problem: ProblemType) -> dict[str, Any]:
        """Sample parameters from this family's search space (names prefixed by the family)."""

    def refit_params(self, fit: FitResult, grow: float = 1.0) -> dict[str, Any]:
        """Parameters to refit on train + validation without a validation set; ``grow`` is
        how many times the rows the fit saw the refit sees (an iterative family runs that
        many times its best iteration: more rows carry more rounds before they overfit)."""
        return dict(fit.params)

    def refit_rounds(self, fit: FitResult, grow: float) -> int:
        """Rounds of an iterative family's refit: its best iteration times ``grow``."""
        return max(1, round((fit.best_iteration or 1) * grow))

    def upgrade(self, estimator: Any) -> Any:
        """``estimator`` as this version of the family holds it: bundles written by older
        versions are brought up to date once, when they load. The default keeps it as is."""
        return estimator

    def importance(self, estimator: Any, n_features: int) -> np.ndarray | None:
        """Global feature importance, summing to 1, or None when the family has none."""
        return None

    def contributions(self, estimator: Any, x: np.ndarray) -> np.ndarray | None:
        """Per-row additive contributions (n, k, features + 1) in raw-score space (log-odds,
        class margins or values; k = 1 unless multiclass), the bias last: they sum to
        :meth:`raw_score`. None when the family cannot explain single predictions."""
        return None

    def raw_score(self, estimator: Any, x: np.ndarray) -> np.ndarray:
        """Raw scores (n, k) before the link function: what contributions add up to."""
        raise NotImplementedError(f"{self.name} has no raw score")

    def tree_stats(self, estimator: Any, params: dict[str, Any]) -> dict[str, Any] | None:
        """How often trees reach their size limit: {limit, value, share_at_limit}."""
        return None


def balanced_weights(problem: ProblemType, y: np.ndarray, balanced: bool) -> np.ndarray | None:
    """Sample weights that give every class the same total weight, or None."""
    if not balanced or problem == "regression":
        return None
    classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    weights = len(y) / (len(classes) * counts)
    return weights[inverse].astype(np.float64)


def by_class(values: np.ndarray, n_rows: int, width: int) -> np.ndarray:
    """Reshape library contributions ((n, w), (n, k*w) or (n, k, w)) to (n, k, w)."""
    return np.asarray(values, dtype=np.float64).reshape(n_rows, -1, width)


def normalized(values: np.ndarray) -> np.ndarray:
    values = np.abs(np.asarray(values, dtype=np.float64))
    total = values.sum()
    return values / total if total > 0 else values


def relinked(
    contrib: np.ndarray, value: np.ndarray, value_base: np.ndarray, slope_base: np.ndarray
) -> np.ndarray:
    """Raw-score contributions (n, k, w + 1) carried through a link to sum to ``value``
    (n, k): the base becomes ``value_base`` (the link at the base score), and the feature
    terms share ``value - value_base`` in proportion to their raw contributions. Where they
    add nothing to the raw score, the link's slope at the base (``slope_base``) scales them."""
    moved = contrib.sum(axis=2) - contrib[:, :, -1]
    flat = np.abs(moved) < 1e-12
    slope = np.where(flat, slope_base, (value - value_base) / np.where(flat, 1.0, moved))
    out = contrib * slope[:, :, None]
    out[:, :, -1] = value_base
    return out
