"""When a search stops before its budget: it has converged, or it proposes what it has tried.

**Convergence.** A search has converged when the trials since its best validation score last
improved number at least ``max(min_patience, factor x t)``, where ``t`` is the trial that
reached it. The stretch grows with ``t`` because gains come ever further apart: were
trials exchangeable (random search, which TPE only improves on), trial ``N + 1`` would be a
new best with chance ``1 / (N + 1)``, so a fixed patience would either stop a young search
or let an old one spin for ever. Scaled by ``t``, the rule asks the same of a search at any
age: with ``factor = 2``, the trials that found the best are at most a third of those run,
and the other two thirds failed to beat it. The floor of 50 trials gives TPE (about ten
random start-up trials) room to model the space before a stop is considered. A gain
counts only if it beats the best by more than ``rel_tol`` of its size (1e-4: the fourth
decimal of an AUC), so noise-level creep does not keep a converged search alive. Every
decided trial counts toward the stretch: pruned, failed and duplicate ones too.

**Duplicates.** TPE re-proposes parameter sets it has already tried, above all on small
spaces (``linear`` has two parameters). A proposal equal to a finished or pruned trial of
the same family, floats compared to :data:`SIGNIFICANT` digits (closer values fit the same
model to within noise), is not fit again: the study is told the earlier outcome and the
search counts it as a duplicate instead of recording a run.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

__all__ = ["SIGNIFICANT", "Convergence", "Earlier", "TriedParams"]

SIGNIFICANT = 4
"""Significant digits of a float parameter in a duplicate check."""


class Convergence:
    """Tracks the best validation score trial by trial and says when the search converged.

    Args:
        higher_is_better: The direction of the metric.
        min_patience: The shortest stretch without a gain that counts as converged.
        factor: The stretch, as a multiple of the trials it took to reach the best.
        rel_tol: A gain smaller than this share of the best score's size is no gain.
    """

    def __init__(
        self,
        *,
        higher_is_better: bool,
        min_patience: int = 50,
        factor: float = 2.0,
        rel_tol: float = 1e-4,
    ) -> None:
        self.sign = 1.0 if higher_is_better else -1.0
        self.min_patience = min_patience
        self.factor = factor
        self.rel_tol = rel_tol
        self.trials = 0
        self.best: float | None = None
        self.at_best = 0

    def record(self, value: float | None) -> None:
        """Count one decided trial; ``value`` is its validation score (None: no score)."""
        self.trials += 1
        if value is None or not math.isfinite(value):
            return
        if self.best is None or self.sign * (value - self.best) > self.rel_tol * max(
            abs(self.best), 1e-12
        ):
            self.best, self.at_best = value, self.trials

    @property
    def patience(self) -> int:
        """Trials without a gain after which the search has converged."""
        return max(self.min_patience, math.ceil(self.factor * self.at_best))

    def converged(self) -> bool:
        """Whether the trials since the last gain reached :attr:`patience`."""
        return self.best is not None and self.trials - self.at_best >= self.patience


@dataclass(frozen=True)
class Earlier:
    """The first trial that tried a parameter set, and its score (None: it was pruned)."""

    number: int
    score: float | None


class TriedParams:
    """The parameter sets a search has finished or pruned, per family."""

    def __init__(self) -> None:
        self._seen: dict[str, Earlier] = {}

    def get(self, family: str, params: dict[str, Any]) -> Earlier | None:
        """The earlier trial of the same family with the same parameters, if any."""
        return self._seen.get(_key(family, params))

    def add(self, family: str, params: dict[str, Any], number: int, score: float | None) -> None:
        """Remember a finished (``score``) or pruned or running (None) trial; the first
        one stays (updated with its score when it finishes)."""
        key = _key(family, params)
        earlier = self._seen.get(key)
        if earlier is None or earlier.number == number:
            self._seen[key] = Earlier(number, score)

    def discard(self, family: str, params: dict[str, Any], number: int) -> None:
        """Forget trial ``number`` (it failed: its parameters may be tried again)."""
        key = _key(family, params)
        if key in self._seen and self._seen[key].number == number:
            del self._seen[key]


def _key(family: str, params: dict[str, Any]) -> str:
    def rounded(value: Any) -> Any:
        if isinstance(value, float) and math.isfinite(value):
            return float(f"{value:.{SIGNIFICANT}g}")
        return value

    return json.dumps([family, sorted((k, rounded(v)) for k, v in params.items())], default=repr)
