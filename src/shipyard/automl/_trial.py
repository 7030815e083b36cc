"""One AutoML trial, wherever it runs: fit a proposal on the encoded data, report its
validation losses so Optuna can prune it, stop it when its seconds are spent, score it."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna

from shipyard.automl._metrics import score
from shipyard.errors import InvalidInput
from shipyard.model import (
    EnsembleEstimator,
    EnsembleFamily,
    Family,
    FitData,
    FitResult,
    IterationHook,
    get_family,
)

if TYPE_CHECKING:
    from shipyard.automl._cv import Folds

__all__ = ["Proposal", "SearchData", "TrialOutcome", "run_trial"]

_REPORT_EVERY = 5
_LATENCY_REPEATS = 10

MEMBERS_MAX_MS = 1.0
"""The default of :attr:`SearchData.members_max_ms`: encoding a row, calibrating and the
call itself take about half a millisecond more (more on wide tables: the training job
measures its encoder and lowers it), and the target is 2 ms a row in all. Members also
slow each other down (their trees evict each other's from the cache): three boosters of
``diamonds`` measured 0.8 ms one by one and 1.7-2.4 ms a row as the final model."""


@dataclass
class SearchData(FitData):
    """Encoded training and validation matrices and targets (a search always validates)."""

    x_valid: np.ndarray
    y_valid: np.ndarray
    score_rows: int = 0
    """Rows the chosen model predicts after the search (test, the diagnostics sample):
    the search keeps time for them, at the prediction speed each trial measured."""
    folds: Folds | None = None
    """Set when the search cross-validates: train and valid are then the same pooled rows,
    and each trial fits every fold (see :mod:`shipyard.automl._cv`)."""
    members_max_ms: float = MEMBERS_MAX_MS
    """Single-row milliseconds the final model's members may take together (as their
    trials measured them): an ensemble's, a stack's, the bags of fold models kept."""
    refit_threads: int = 0
    """Threads the refits after the search fit with (0: all cores): a trial fit on fewer
    (one of several at once) carries its seconds to a refit's at a measured speed-up."""

    def refit_rows(self) -> tuple[int, int]:
        """Rows all of a trial's fits saw together, and rows a refit of it sees: their ratio
        carries a trial's fit seconds to the refit's."""
        n = len(self.y_valid)
        if self.folds is not None:
            return (self.folds.k - 1) * self.folds.repeats * n, n
        return len(self.y_train), len(self.y_train) + n

    def refit_growth(self) -> float:
        """How many times the rows one of a trial's fits saw a refit sees: train +
        validation over train, or k/(k-1) after k-fold cross-validation (a boosted refit
        runs that many times its best iteration, see :meth:`Family.refit_params`)."""
        if self.folds is not None:
            return self.folds.k / (self.folds.k - 1)
        return (len(self.y_train) + len(self.y_valid)) / max(len(self.y_train), 1)

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
    fold_estimators: list[Any] | None = None
    """Cross-validated: the first repeat's fold models (the bag)."""
    fold_scores: list[float] | None = None
    """Cross-validated: the score of every fold (of every repeat)."""
    threads: int = 1
    """Threads its fits used (resolved: never 0)."""


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
    When ``data`` has folds, every fold is fit and the trial scores the fold mean.

    ``report_interval`` spaces the reports out in seconds (a shared database storage pays
    a round trip for each).

    Raises:
        InvalidInput: The fit produced a non-finite score. Anything the family raises
            passes through: the caller records the trial as failed.
    """
    family = get_family(proposal.family)
    watch = _Watch(trial, clock() + proposal.seconds, clock, report_interval)
    if data.folds is not None:
        outcome = _run_folds(data, data.folds, family, proposal, watch, metric, seed, threads)
    else:
        outcome = _run_holdout(data, family, proposal, watch, metric, seed, threads)
    outcome.threads = threads or os.cpu_count() or 1
    return outcome


def _run_holdout(
    data: SearchData,
    family: Family,
    proposal: Proposal,
    watch: _Watch,
    metric: str,
    seed: int,
    threads: int,
) -> TrialOutcome:
    """Fit on train, stopping when the trial's seconds are spent; score validation."""
    fit = data.fit(family, proposal.params, seed, on_iteration=watch.hook, threads=threads)
    if watch.pruned:
        return TrialOutcome(fit, pruned=True)
    started = time.perf_counter()
    valid_scores = family.predict(fit.estimator, data.x_valid, threads=threads)
    predict_seconds = time.perf_counter() - started
    value = _finite(family, metric, score(metric, data.problem, data.y_valid, valid_scores))
    return TrialOutcome(
        fit,
        pruned=False,
        valid_scores=valid_scores,
        score=value,
        latency_ms=_latency_ms(family, fit.estimator, data.x_valid),
        cut_by_deadline=watch.deadline,
        predict_seconds=predict_seconds,
    )


class _Watch:
    """A trial's iteration hook: stops its fit when its seconds are spent, and reports
    validation losses so Optuna can prune it (cross-validated: the first fold's only, as a
    trial has one curve)."""

    def __init__(
        self, trial: optuna.Trial, end: float, clock: Callable[[], float], interval: float
    ) -> None:
        self.trial, self.end, self.clock, self.interval = trial, end, clock, interval
        self.deadline = False
        self.pruned = False
        self.reports = True
        self._last = -np.inf

    def hook(self, iteration: int, loss: float) -> bool:
        now = self.clock()
        if now >= self.end:
            self.deadline = True
            return True
        if (
            self.reports
            and iteration % _REPORT_EVERY == 0
            and np.isfinite(loss)
            and now - self._last >= self.interval
        ):
            self._last = now
            self.trial.report(loss, iteration)
            if self.trial.should_prune():
                self.pruned = True
                return True
        return False


def _run_folds(
    data: SearchData,
    folds: Folds,
    family: Family,
    proposal: Proposal,
    watch: _Watch,
    metric: str,
    seed: int,
    threads: int,
) -> TrialOutcome:
    """Fit every fold (early-stopped on its held-out rows); score the fold mean, keep the
    out-of-fold predictions (averaged over repeats) and the first repeat's models.

    Each fold of the first repeat may end by its share of the trial's seconds (a fast fold
    leaves its spare time to the next), so a slow configuration is cut evenly, like a
    holdout trial. A further repeat runs only when the last one's time fits again in what
    is left of them: repeats are for when they are cheap.
    """
    oof: np.ndarray | None = None
    fits: list[FitResult] = []
    scores: list[float] = []
    predict_seconds, cut = 0.0, False
    begin, k = watch.end - proposal.seconds, folds.k
    for i, (rows, held) in enumerate(folds.splits):
        if i and i % k == 0 and not _room_for_repeat(watch, begin, i // k):
            break
        watch.reports, watch.deadline = i == 0, False
        watch.end = begin + proposal.seconds * min(1.0, (i + 1) / k)
        x_held, y_held = data.x_train[held], data.y_train[held]
        part = FitData(
            data.problem,
            data.n_classes,
            data.x_train[rows],
            data.y_train[rows],
            x_held,
            y_held,
            data.categorical,
        )
        fit = family.fit(part, proposal.params, seed, on_iteration=watch.hook, threads=threads)
        if watch.pruned:
            return TrialOutcome(fit, pruned=True)
        started = time.perf_counter()
        held_scores = family.predict(fit.estimator, x_held, threads=threads)
        predict_seconds += time.perf_counter() - started
        if oof is None:
            oof = np.zeros((len(data.y_valid), *np.shape(held_scores)[1:]))
        oof[held] += held_scores
        scores.append(score(metric, data.problem, y_held, held_scores))
        fits.append(fit)
        cut = cut or watch.deadline
    repeats = len(fits) // k
    bag = [f.estimator for f in fits[:k]]
    ensemble = EnsembleEstimator([(family, m, 1.0 / len(bag)) for m in bag], data.problem)
    return TrialOutcome(
        _folded(fits),
        pruned=False,
        valid_scores=np.asarray(oof) / repeats,
        score=_finite(family, metric, float(np.mean(scores))),
        latency_ms=_latency_ms(EnsembleFamily(), ensemble, data.x_valid),
        cut_by_deadline=cut,
        # the bag predicts every row with all its k models
        predict_seconds=predict_seconds * k / repeats,
        fold_estimators=bag,
        fold_scores=scores,
    )


def _room_for_repeat(watch: _Watch, begin: float, done: int) -> bool:
    """Whether one more repeat, as long as the ``done`` ones took on average, ends within
    the trial's seconds."""
    now = watch.clock()
    return now + (now - begin) / done <= watch.end


def _folded(fits: list[FitResult]) -> FitResult:
    """One FitResult for a trial's folds: the first fold's model and curves (for the
    diagnostics), the seconds of all, and the mean best iteration (sizes a refit)."""
    first = fits[0]
    best = [f.best_iteration for f in fits]
    return FitResult(
        first.estimator,
        first.params,
        first.curves,
        None if None in best else round(float(np.mean(best))),  # type: ignore[arg-type]
        float(sum(f.fit_seconds for f in fits)),
        next((f.stopped for f in fits if f.stopped), None),
    )


def _finite(family: Family, metric: str, value: float) -> float:
    if not np.isfinite(value):
        raise InvalidInput(f"{family.name} produced a non-finite {metric} ({value}).")
    return value


def _latency_ms(family: Family, estimator: Any, x: np.ndarray) -> float:
    """Median milliseconds to predict one row, over the first _LATENCY_REPEATS rows of
    ``x`` one at a time (other rows take other paths through the trees: one row asked
    again and again measured warm caches)."""
    family.predict(estimator, x[:1], threads=1)
    times = []
    for i in range(_LATENCY_REPEATS):
        row = x[i % len(x) : i % len(x) + 1]
        started = time.perf_counter()
        family.predict(estimator, row, threads=1)
        times.append(time.perf_counter() - started)
    return float(np.median(times) * 1000)
