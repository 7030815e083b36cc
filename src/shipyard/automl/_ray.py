"""The AutoML search with its trials as Ray tasks, sharing one Optuna study in the catalog
database.

The driver (this process) keeps everything the local search does: TPE proposes each trial
(``study.ask``), the trial is logged to the catalog, the budget decides whether another
starts, and finished trials are told to the study, ranked, ensembled and refit. A task only
fits: it gets the encoded data from the object store (put once), reports validation losses
to the shared study, asks the family median pruner there whether to stop (so it sees the
trials other machines finished), and returns the fit, its validation scores and latency.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import TrialState

from shipyard.automl._budget import Budget
from shipyard.automl._pruner import FamilyMedianPruner
from shipyard.automl._search import (
    _MARGIN,
    SearchProgress,
    SearchResult,
    SearchRun,
    TrialLog,
    quiet_optuna,
)
from shipyard.automl._stopping import Earlier
from shipyard.automl._study import StudyStorage
from shipyard.automl._trial import Proposal, SearchData, TrialOutcome, run_trial
from shipyard.compute import RayCluster
from shipyard.errors import BackendUnavailable, InvalidInput
from shipyard.model import twinned

__all__ = ["RaySearch", "search_on_ray"]

_LARGE_DATA_CPUS = 4
"""CPUs per trial when data is large and ``threads`` is automatic: boosters gain from a few
threads, and more trials run side by side than with one trial per machine."""

_LIBRARIES = {
    "lightgbm": "lightgbm",
    "xgboost": "xgboost",
    "catboost": "catboost",
    "random_forest": "sklearn.ensemble",
    "extra_trees": "sklearn.ensemble",
    "linear": "sklearn.linear_model",
}
"""What each family imports when it first fits: workers import it while warming up."""

_REPORT_INTERVAL = 0.25
"""Seconds between a task's reports to the shared study: each is a database round trip."""


@dataclass
class RaySearch:
    """Where a search runs on Ray: the cluster, the study storage and the study's name."""

    cluster: RayCluster
    storage: StudyStorage
    study_name: str


@dataclass(frozen=True)
class _Tasks:
    """How this search runs its trials as Ray tasks: the remote trial function with its
    CPUs, the data in the object store, where the study is, and how many run at once."""

    ray: Any
    task: Any
    data_ref: Any
    on: RaySearch
    metric: str
    seed: int
    cpus: int
    slots: int
    grace: float

    def submit(self, trial: optuna.Trial, proposal: Proposal) -> Any:
        """Start ``trial`` as a task; returns its object ref."""
        return self.task.remote(
            self.data_ref,
            self.on.storage,
            self.on.study_name,
            trial._trial_id,  # Optuna's handle of a trial across processes
            proposal,
            time.time(),
            self.metric,
            self.seed,
            self.cpus,
        )


@dataclass
class _Running:
    trial: optuna.Trial
    proposal: Proposal
    run_id: str | None
    hard_end: float


def search_on_ray(
    data: SearchData,
    on: RaySearch,
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
    """Search like :func:`~shipyard.automl._search`, running the trials as Ray tasks.

    ``threads`` is each trial's CPUs (0: one for small data, else up to four); as many
    trials run at once as the cluster's nodes hold, and each fit uses the threads its task
    reserved, so trials never oversubscribe a machine.

    Raises:
        InvalidInput: No worker started, or no trial finished, within the budget; the
            message carries the first error.
        BackendUnavailable: A worker cannot reach the study storage.
    """
    ray = on.cluster.ray
    run = SearchRun(
        data,
        metric=metric,
        families=families,
        budget=budget,
        max_trials=max_trials,
        log=log,
        on_progress=on_progress,
    )
    cpus = _cpus_per_trial(threads, on.cluster)
    slots = on.cluster.slots(cpus)
    # A trial may overrun its slot by this much (scoring and timing after its fit) before
    # the driver cancels it, so that one stuck task cannot hold the job past its budget.
    grace = _MARGIN * budget.seconds
    warm_up_seconds = _warm_up(on.cluster, run, cpus, slots)
    task = ray.remote(_trial_task).options(num_cpus=cpus, max_retries=0)
    with quiet_optuna(), on.storage.connected(create=True) as storage:
        study = run.study(seed, storage=storage, study_name=on.study_name)
        data_ref = ray.put(data)
        tasks = _Tasks(
            ray, task, data_ref, on, metric=metric, seed=seed, cpus=cpus, slots=slots, grace=grace
        )
        try:
            _run_trials(tasks, study, run)
        finally:
            del data_ref, tasks  # the data leaves the object store
        # before the storage closes; warm-start trials never reached stay WAITING
        trials = sum(t.state != optuna.trial.TrialState.WAITING for t in study.trials)
    result = run.result(trials, ensemble)
    result.execution = {
        "backend": "ray",
        "parallel_trials": slots,
        "cpus_per_trial": cpus,
        "workers_ready_seconds": round(warm_up_seconds, 2),
        "study": on.study_name,
        "study_storage": on.storage.describe(),
    }
    return result


def _warm_up(cluster: RayCluster, run: SearchRun, cpus: int, slots: int) -> float:
    """Start the workers and import what the trials need; returns the seconds it took.

    Raises:
        InvalidInput: No worker was ready before the budget ran out.
    """
    budget = run.budget
    libraries = {_LIBRARIES.get(twinned(f), "") for f in run.families}
    modules = [__name__, *sorted(filter(None, libraries))]
    warming = budget.clock()
    warm = cluster.warm_up(modules, tasks=slots, cpus=cpus, timeout=budget.left() - run.reserve())
    warm_up_seconds = budget.clock() - warming
    if not warm:
        raise InvalidInput(
            f"No Ray worker was ready after {warm_up_seconds:.1f} s (each starts Python and "
            f"imports Shipyard and the model libraries), leaving nothing of the "
            f"{budget.seconds:g} s time budget to search. Give a larger time_budget."
        )
    return warm_up_seconds


def _run_trials(tasks: _Tasks, study: optuna.Study, run: SearchRun) -> None:
    """Keep every slot busy with a trial until the search stops, then wait for them all."""
    ray, clock = tasks.ray, run.budget.clock
    running: dict[Any, _Running] = {}
    try:
        open_ = True
        while True:
            while open_ and len(running) < tasks.slots:
                seconds = None if run.should_stop(len(running)) else run.slot()
                if seconds is None:
                    open_ = False
                    break
                trial = study.ask()
                started = run.begin(trial, seconds)
                if started.earlier is not None:
                    _tell_repeat(study, trial, started.earlier)
                    continue
                ref = tasks.submit(trial, started.proposal)
                hard_end = clock() + started.proposal.seconds + tasks.grace
                running[ref] = _Running(trial, started.proposal, started.run_id, hard_end)
            if not running:
                break
            wait = max(0.0, min(r.hard_end for r in running.values()) - clock())
            ready, _ = ray.wait(list(running), num_returns=1, timeout=wait)
            for ref in ready:
                _collect(ray, study, run, running.pop(ref), ref)
            if not ready:
                _cancel_late(ray, study, run, running, clock())
    finally:
        # Only after an error: the loop above waits for every task it started.
        for ref, left in running.items():
            ray.cancel(ref, force=True)
            # the error being raised matters more than the state of these trials
            with contextlib.suppress(Exception):
                study.tell(left.trial, state=TrialState.FAIL)


def _cpus_per_trial(threads: int, cluster: RayCluster) -> int:
    # A task asking for more CPUs than any node has would never be scheduled.
    biggest = int(max(cluster.node_cpus(), default=1)) or 1
    return max(1, min(threads or _LARGE_DATA_CPUS, biggest))


def _collect(ray: Any, study: optuna.Study, run: SearchRun, entry: _Running, ref: Any) -> None:
    """Record the trial a finished task ran, and tell the study."""
    try:
        outcome: TrialOutcome = ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        # The task raised: record the family's own exception, not Ray's wrapper.
        cause = exc.cause if isinstance(exc.cause, BaseException) else exc
        _fail(study, run, entry, cause)
        if isinstance(cause, BackendUnavailable):
            raise cause from None  # every other trial would fail the same way
        return
    except ray.exceptions.RayError as exc:  # the worker died (out of memory, node lost)
        _fail(study, run, entry, exc)
        return
    if not run.finish(entry.trial.number, entry.proposal, entry.run_id, outcome):
        study.tell(entry.trial, state=TrialState.FAIL)  # recording it failed, with the error
    elif outcome.pruned:
        study.tell(entry.trial, state=TrialState.PRUNED)
    else:
        study.tell(entry.trial, outcome.score)


def _tell_repeat(study: optuna.Study, trial: optuna.Trial, earlier: Earlier) -> None:
    """Tell the study a duplicate proposal's outcome: the earlier trial's."""
    if earlier.score is None:
        study.tell(trial, state=TrialState.PRUNED)
    else:
        study.tell(trial, earlier.score)


def _cancel_late(
    ray: Any, study: optuna.Study, run: SearchRun, running: dict[Any, _Running], now: float
) -> None:
    """Cancel the tasks that ran past their slot and its grace."""
    for ref, entry in list(running.items()):
        if now >= entry.hard_end:
            ray.cancel(ref, force=True)
            del running[ref]
            late = TimeoutError(
                f"{entry.proposal.family} did not finish within its {entry.proposal.seconds:.1f} s "
                "of the time budget; its Ray task was cancelled."
            )
            _fail(study, run, entry, late)


def _fail(study: optuna.Study, run: SearchRun, entry: _Running, error: BaseException) -> None:
    run.fail(entry.trial.number, entry.proposal, entry.run_id, error)
    study.tell(entry.trial, state=TrialState.FAIL)


_storages: dict[str, Any] = {}


def _trial_task(
    data: SearchData,
    storage: StudyStorage,
    study_name: str,
    trial_id: int,
    proposal: Proposal,
    sent_at: float,
    metric: str,
    seed: int,
    threads: int,
) -> TrialOutcome:
    """One trial, in a Ray worker: fit against the shared study and return the outcome."""
    # The slot started when the driver sent the task: time spent queued or starting this
    # worker is taken from it, so the job keeps its budget.
    waited = max(0.0, time.time() - sent_at)
    proposal = dataclasses.replace(proposal, seconds=proposal.seconds - waited)
    if storage.url not in _storages:  # one engine per worker process, reused by its tasks
        _storages[storage.url] = storage.open()
    with quiet_optuna():
        study = optuna.load_study(
            study_name=study_name,
            storage=_storages[storage.url],
            sampler=optuna.samplers.RandomSampler(),  # the driver samples; this one is unused
            pruner=FamilyMedianPruner(),
        )
        trial = optuna.Trial(study, trial_id)
        return run_trial(
            data,
            trial,
            proposal,
            metric=metric,
            seed=seed,
            threads=threads,
            report_interval=_REPORT_INTERVAL,
        )
