"""Median pruning that compares a trial only with finished trials of its own family.

Loss curves of different families (learning rates, trees per step) are not comparable
step for step, so Optuna's MedianPruner over the whole study would prune good trials of a
slow-starting family. Intermediate values are validation losses: lower is better.
"""

from __future__ import annotations

import numpy as np
import optuna
from optuna.pruners import BasePruner
from optuna.trial import FrozenTrial, TrialState

__all__ = ["FamilyMedianPruner"]


class FamilyMedianPruner(BasePruner):
    """Prune when a trial's loss is worse than the median of its family's finished trials.

    Args:
        startup: Finished trials of the family needed before pruning any of its trials.
        warmup: Steps (boosting rounds / trees) before a trial can be pruned.
    """

    def __init__(self, startup: int = 2, warmup: int = 20) -> None:
        self.startup = startup
        self.warmup = warmup

    def prune(self, study: optuna.Study, trial: FrozenTrial) -> bool:
        step = trial.last_step
        if step is None or step < self.warmup:
            return False
        family = trial.params.get("family")
        peers = [
            t
            for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if t.params.get("family") == family and t.intermediate_values
        ]
        if len(peers) < self.startup:
            return False
        values = [v for v in (_value_at(t, step) for t in peers) if v is not None]
        if len(values) < self.startup:
            return False
        current = _value_at(trial, step)
        return current is not None and current > float(np.median(values))


def _value_at(trial: FrozenTrial, step: int) -> float | None:
    """The best loss the trial had reached by ``step``."""
    reached = [v for s, v in trial.intermediate_values.items() if s <= step]
    return min(reached) if reached else None
