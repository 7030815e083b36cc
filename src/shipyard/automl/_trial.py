"""One AutoML trial, wherever it runs: fit a proposal on the encoded data, report its
validation losses so Optuna can prune it, stop it when its seconds are spent, score it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna

from shipyard.automl._metrics import score
from shipyard.errors import InvalidInput
from shipyard.model import Family, FitData, FitResult, IterationHook, get_family

__all__ = ["Proposal", "SearchData", "TrialOutcome", "run_trial"]

_REPORT_EVERY = 5
_LATENCY_REPEATS = 10


@dataclass
class SearchData(FitData):
    """Encoded training and validation matrices and targets (a search always validates)."""

    x_valid: np.ndarray
    y_valid: np.ndarray
    score_rows: int = 0
    """Rows the chosen model predicts after the search (test, the diagnostics sample):
    the search keeps time for them, at the prediction speed each trial measured."""

    def fit(
        self,
        family: Family,
        params: dict[str, Any] | None,
        seed: int,
        *,
        on_iteration: IterationHook | None = None,
        threads: int = 0,
    ) -> FitResult:
        """Fit ``family`` on these matrices, early-stopped on the validation part."""
        return family.fit(self, params, seed, on_iteration=on_iteration, threads=threads)


@dataclass(frozen=True)
class Proposal:
    """What one trial fits: a family, its parameters, and the seconds it may take.

    Picklable, so a trial can be proposed by the driver and fit on another machine.
    """

    family: str
    params: dict[str, Any]
    default: bool
    seconds: float


@dataclass
class TrialOutcome:
    """A trial's fit and, unless it was pruned, its validation scores and latency."""

    fit: FitResult
    pruned: bool
    valid_scores: np.ndarray | None = None
    score: float = float("nan")
    latency_ms: float = 0.0
    cut_by_deadline: bool = False
    predict_seconds: float = 0.0
    """Seconds to predict the validation rows."""


def run_trial(
    data: SearchData,
    trial: optuna.Trial,
    proposal: Proposal,
    *,
    metric: str,
    seed: int,
    threads: int,
    clock: Callable[[], float] = time.monotonic,
    report_interval: float = 0.0,
) -> TrialOutcome:
    """Fit one proposal, reporting validation losses to ``trial`` so Optuna can prune it,
    and stopping when its seconds are spent; then score validation and time a prediction.

    ``report_interval`` spaces the reports out in seconds (a shared database storage pays
    a round trip for each).

    Raises:
        InvalidInput: The fit produced a non-finite score. Anything the family raises
            passes through: the caller records the trial as failed.
    """
    family = get_family(proposal.family)
    trial_end = clock() + proposal.seconds
    state = {"deadline": False, "pruned": False}
    last_report = [-np.inf]

    def hook(iteration: int, loss: float) -> bool:
        now = clock()
        if now >= trial_end:
            state["deadline"] = True
            return True
        if (
            iteration % _REPORT_EVERY == 0
            and np.isfinite(loss)
            and now - last_report[0] >= report_interval
        ):
            last_report[0] = now
            trial.report(loss, iteration)
            if trial.should_prune():
                state["pruned"] = True
                return True
        return False

    fit = data.fit(family, proposal.params, seed, on_iteration=hook, threads=threads)
    if state["pruned"]:
        return TrialOutcome(fit, pruned=True)
    started = time.perf_counter()
    valid_scores = family.predict(fit.estimator, data.x_valid, threads=threads)
    predict_seconds = time.perf_counter() - started
    value = score(metric, data.problem, data.y_valid, valid_scores)
    if not np.isfinite(value):
        raise InvalidInput(f"{family.name} produced a non-finite {metric} ({value}).")
    return TrialOutcome(
        fit,
        pruned=False,
        valid_scores=valid_scores,
        score=value,
        latency_ms=_latency_ms(family, fit.estimator, data.x_valid[:1]),
        cut_by_deadline=state["deadline"],
        predict_seconds=predict_seconds,
    )


def _latency_ms(family: Family, estimator: Any, row: np.ndarray) -> float:
    family.predict(estimator, row, threads=1)
    times = []
    for _ in range(_LATENCY_REPEATS):
        started = time.perf_counter()
        family.predict(estimator, row, threads=1)
        times.append(time.perf_counter() - started)
    return float(np.median(times) * 1000)
