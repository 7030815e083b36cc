"""The AutoML search in this process: Optuna's trials one at a time, or several at once on
small data, where one fit uses one core well and more cores serve more trials.

Parallel trials are threads (Optuna's ``n_jobs``): the families' libraries release the GIL
while they fit, the encoded data is shared rather than copied, and the budget's accounting
is unchanged, as every trial still gets its slot from the same :class:`SearchRun`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence

import optuna

from shipyard.automl._budget import Budget
from shipyard.automl._result import SearchProgress, SearchResult
from shipyard.automl._search import (
    SearchRun,
    Started,
    TrialFailed,
    TrialLog,
    quiet_optuna,
)
from shipyard.automl._stopping import Earlier
from shipyard.automl._trial import SearchData, run_trial

__all__ = ["parallel_trials", "search"]

_SMALL_CELLS = 2_000_000  # below this many matrix cells, one fit gains little from a 2nd core


_REFUSED = "refused"  # a trial asked for after the search stopped: never begun


def search(
    data: SearchData,
    *,
    metric: str,
    families: Sequence[str],
    budget: Budget,
    seed: int = 0,
    ensemble: bool = True,
    max_trials: int | None = None,
    threads: int = 0,
    log: TrialLog | None = None,
    on_progress: Callable[[SearchProgress], None] | None = None,
) -> SearchResult:
    """Search families and parameters in this process until the budget (minus refit
    reserve) is spent.

    Raises:
        InvalidInput: No trial finished (every one failed, or the budget was too short for
            even one); the message carries the first error.
    """
    run = SearchRun(
        data,
        metric=metric,
        families=families,
        budget=budget,
        max_trials=max_trials,
        log=log,
        on_progress=on_progress,
    )

    jobs = parallel_trials(data, threads)
    objective = _Objective(run, metric, seed, threads=1 if jobs > 1 else threads)
    with quiet_optuna():
        study = run.study(seed)
        # Only a failure already recorded on its run is swallowed; anything else (the
        # catalog refusing a run, a progress callback raising) ends the search.
        study.optimize(objective, n_jobs=jobs, catch=(TrialFailed,), gc_after_trial=False)
    # Warm-start trials the budget never reached stay enqueued (WAITING), and a thread may
    # have asked for a trial the search then refused (its stop had not reached Optuna yet):
    # neither is a trial run.
    waiting = optuna.trial.TrialState.WAITING
    ran = sum(t.state != waiting and _REFUSED not in t.user_attrs for t in study.trials)
    result = run.result(ran, ensemble)
    result.execution = {"backend": "local", "parallel_trials": jobs}
    return result


def parallel_trials(data: SearchData, threads: int) -> int:
    """Trials to run at once in this process: one per core (each fit on one thread) when
    the data is small enough that one fit uses one core well, else one (using ``threads``).

    ``threads`` is the cores the job may use (0: all of this machine's).
    """
    cores = threads or os.cpu_count() or 1
    if cores < 2 or data.x_train.size >= _SMALL_CELLS:
        return 1
    return min(cores, os.cpu_count() or 1)


class _Objective:
    """Optuna's objective for a search in this process, safe to call from several
    threads at once: the run's bookkeeping is under a lock, the fits run outside it."""

    def __init__(self, run: SearchRun, metric: str, seed: int, threads: int) -> None:
        self.run, self.metric, self.seed, self.threads = run, metric, seed, threads
        self.lock = threading.Lock()
        self.running = 0

    def __call__(self, trial: optuna.Trial) -> float:
        run = self.run
        started = self._start(trial)
        if started.earlier is not None:
            return _repeat(started.earlier)
        try:
            outcome = run_trial(
                run.data,
                trial,
                started.proposal,
                metric=self.metric,
                seed=self.seed,
                threads=self.threads,
                clock=run.budget.clock,
            )
        except BaseException as exc:  # interrupted: the trial's run ends failed, the job too
            with self.lock:
                self.running -= 1
                run.fail(trial.number, started.proposal, started.run_id, exc)
            if isinstance(exc, Exception):
                raise TrialFailed(str(exc)) from exc
            raise
        with self.lock:
            self.running -= 1
            recorded = run.finish(trial.number, started.proposal, started.run_id, outcome)
            if run.should_stop(self.running):
                trial.study.stop()
        if not recorded:
            raise TrialFailed(run.failures[-1])
        if outcome.pruned:
            raise optuna.TrialPruned()
        return outcome.score

    def _start(self, trial: optuna.Trial) -> Started:
        """Begin ``trial`` (counted as running unless it repeats an earlier trial), or
        prune it when the search should stop or is out of time."""
        run = self.run
        with self.lock:
            seconds = None if run.should_stop(self.running) else run.slot()
            if seconds is None:
                trial.study.stop()
                trial.set_user_attr(_REFUSED, True)
                raise optuna.TrialPruned("out of time")
            started = run.begin(trial, seconds)
            if started.earlier is not None:
                if run.should_stop(self.running):
                    trial.study.stop()
                return started
            self.running += 1
            return started


def _repeat(earlier: Earlier) -> float:
    """Tell the study a duplicate's outcome: the earlier trial's score, or pruned."""
    if earlier.score is None:
        raise optuna.TrialPruned(f"same parameters as trial {earlier.number}")
    return earlier.score
