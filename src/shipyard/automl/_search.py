"""The AutoML search: Optuna TPE over families and their parameters, inside a time budget.

The warm-start portfolio's configurations (learned offline on other tables) and each
family's defaults run first, so a short budget still yields a good model; then TPE
(multivariate, grouped by family) proposes the rest. Boosters early-stop on validation and
every family reports its validation loss as it grows, so Optuna can prune a
trial that trails its family's median and the budget can cut one that runs late. Time for
the final refit and registration is reserved from the start and re-estimated after every
trial.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import optuna

from shipyard.automl._budget import Budget
from shipyard.automl._ensemble import best_of_families, choose_ensemble
from shipyard.automl._metrics import higher_is_better
from shipyard.automl._notes import FamilyTally, family_notes
from shipyard.automl._portfolio import enqueue_warm_start
from shipyard.automl._pruner import FamilyMedianPruner
from shipyard.automl._result import Candidate, SearchProgress, SearchResult
from shipyard.automl._stacking import choose_stack, stacking_seconds
from shipyard.automl._stopping import Convergence, Earlier, TriedParams
from shipyard.automl._trial import Proposal, SearchData, TrialOutcome, run_trial
from shipyard.errors import InvalidInput, did_you_mean
from shipyard.model import FAMILIES, LOG_TWINS, FitResult, get_family

__all__ = [
    "Candidate",
    "Proposal",
    "SearchData",
    "SearchProgress",
    "SearchResult",
    "SearchRun",
    "Started",
    "TrialFailed",
    "TrialLog",
    "TrialOutcome",
    "check_families",
    "quiet_optuna",
    "refit_seconds",
    "run_trial",
]

_KEEP = 12  # best candidates whose estimators stay in memory (and the best of each family)
_TRIAL_SHARE = 0.25  # no single trial may take more than this share of the budget
_MARGIN = 0.05  # of the budget, kept back for a late trial (and a Ray trial's grace)
# A family's next trial may take this many times its best trial's seconds (at least
# _COST_FLOOR of the budget): the cost of a family's trials grows step by step, as in FLAML's
# cost-frugal search, instead of a configuration learned on small tables (or a sampled one)
# taking a quarter of the budget to score below the family's cheaper best.
_COST_GROWTH = 3.0
_COST_FLOOR = 0.05
_REFIT_SHARES = (1.0, 0.5, 0.25)  # of the top three candidates' refit time, kept in reserve


class TrialLog(Protocol):
    """Where trials are recorded (the catalog, in a training job)."""

    def start(self, number: int, family: str, params: dict[str, Any]) -> str | None: ...

    def finish(
        self, run_id: str | None, candidate: Candidate | None, fit: FitResult, outcome: str
    ) -> None: ...

    def fail(self, run_id: str | None, error: BaseException) -> None: ...


class TrialFailed(Exception):
    """A trial that failed and was recorded as failed (its run closed, with the error).

    The only error a search lets Optuna swallow: any other would leave a run open.
    """


def check_families(families: Sequence[str] | None) -> list[str]:
    """The families to search (all when None), validated: each one of :data:`FAMILIES` or
    a log twin of one (``lightgbm_log``: regression on log(1 + y)).

    Raises:
        InvalidInput: An unknown name, or an empty list.
    """
    if families is None:
        return list(FAMILIES)
    if isinstance(families, str):
        families = [families]
    chosen = list(dict.fromkeys(families))
    known = [*FAMILIES, *LOG_TWINS]
    if not chosen:
        raise InvalidInput(
            f"The 'families' parameter of train must name at least one family. "
            f"Known families: {', '.join(known)}."
        )
    for name in chosen:
        if name not in known:
            raise InvalidInput(
                f"Unknown model family '{name}'.{did_you_mean(name, known)} "
                f"Known families: {', '.join(known)}."
            )
    return chosen


def refit_seconds(
    candidates: Sequence[Candidate],
    n_train: int,
    n_all: int,
    margin: float = 1.3,
    threads: int = 0,
    grow: float = 1.0,
) -> float:
    """Estimated seconds to refit ``candidates`` on ``n_all`` rows with ``threads`` (0: all
    cores), times ``margin`` (30% more by default: what the search keeps in reserve).

    A trial fit on fewer threads (one of several trials at once) is carried to the refit's
    threads at its family's measured scaling (:attr:`Family.thread_scaling`; a trial that
    shared the cores ran slower still). Without it, refits were skipped with a quarter of
    the budget unused. An iterative family's refit runs ``grow`` times its best iteration
    (:meth:`shipyard.model.Family.refit_params`)."""
    cores = threads or os.cpu_count() or 1
    total = 0.0
    for c in candidates:
        more = max(1.0, cores / max(c.threads, 1))
        seconds = c.fit.fit_seconds / more**c.family.thread_scaling
        rounds = len(c.fit.curves.get("valid_loss", ()))
        if c.family.iterative and c.fit.best_iteration and rounds:
            seconds *= grow * min(1.0, c.fit.best_iteration / rounds)
        total += seconds * n_all / max(n_train, 1)
    return margin * total


def final_predict_seconds(c: Candidate, members_max_ms: float) -> float:
    """Seconds ``c`` takes to predict the validation rows as the final model holds it: a
    bag of fold models only when the bag predicts a row within ``members_max_ms``, else one
    model (a refit, or a fold model), 1/k of the bag's time. Counting every bag in full
    kept a quarter of the budget idle on hpc_data (12.8 s reserved, under 1 s used)."""
    if c.fold_estimators and c.latency_ms > members_max_ms:
        return c.predict_seconds * c.single_latency_ms / max(c.latency_ms, 1e-9)
    return c.predict_seconds


@dataclass(frozen=True)
class Started:
    """A trial the search began: what it fits and its run id in the log, or the earlier
    trial it repeats (then it is not fit)."""

    proposal: Proposal
    run_id: str | None
    earlier: Earlier | None


class SearchRun:
    """The driver's side of a search, wherever its trials run: the time each trial may
    take, what it fits, and the bookkeeping of finished trials (candidates, counts, the
    trial log, progress)."""

    def __init__(
        self,
        data: SearchData,
        *,
        metric: str,
        families: Sequence[str],
        budget: Budget,
        max_trials: int | None,
        log: TrialLog | None,
        on_progress: Callable[[SearchProgress], None] | None,
    ) -> None:
        self.data = data
        self.metric = metric
        self.families = list(families)
        self.budget = budget
        self.max_trials = max_trials
        self.log = log
        self.on_progress = on_progress
        self.higher = higher_is_better(metric)
        self.candidates: list[Candidate] = []
        self.counts = {"done": 0, "pruned": 0, "failed": 0}
        self.failures: list[str] = []
        self.stopped_by = "budget"
        self.convergence = Convergence(higher_is_better=self.higher)
        self.tried = TriedParams()
        self.tallies = {name: FamilyTally() for name in self.families}
        self.duplicates = 0

    def study(self, seed: int, **kwargs: Any) -> optuna.Study:
        """A new study (TPE, family median pruning) whose first trials are the warm-start
        portfolio's configurations and each family's defaults (:mod:`._portfolio`);
        ``kwargs`` go to :func:`optuna.create_study` (storage, study_name)."""
        with warnings.catch_warnings():
            # multivariate + group TPE is marked experimental; it is what conditional spaces
            # need
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(
                multivariate=True, group=True, seed=seed, n_startup_trials=len(self.families) + 4
            )
        study = optuna.create_study(
            direction="maximize" if self.higher else "minimize",
            sampler=sampler,
            pruner=FamilyMedianPruner(),
            **kwargs,
        )
        enqueue_warm_start(study, self.families, self.data.problem, len(self.data.y_train))
        return study

    def reserve(self) -> float:
        """Seconds kept at the end of the budget for what follows the search."""
        # Room to refit the best model and part of the next two (an ensemble has up to
        # three, and is not always chosen); a member whose refit does not fit in the time
        # left keeps its fit on train.
        n_fit, n_all = self.data.refit_rows()
        n_valid = len(self.data.y_valid)
        top = self._ranked()[:3]
        refit = sum(
            share
            * refit_seconds(
                [c],
                n_fit,
                n_all,
                threads=self.data.refit_threads,
                grow=self.data.refit_growth(),
            )
            for share, c in zip(_REFIT_SHARES, top, strict=False)
        )
        # Every member of an ensemble scores the test rows and the diagnostics sample, at
        # the speed it predicted validation (measured, with a 30% margin).
        scoring = (
            1.3
            * sum(final_predict_seconds(c, self.data.members_max_ms) for c in top)
            * self.data.score_rows
            / n_valid
        )
        # Extra overhead: the last trial's bookkeeping (scoring validation, latency, the
        # catalog) and ensemble selection run after its deadline.
        return (
            1.25 * self.budget.overhead()
            + _MARGIN * self.budget.seconds
            + refit
            + scoring
            + stacking_seconds(n_valid, len(self.families))
        )

    def slot(self) -> float | None:
        """Seconds a trial starting now may take, or None when the budget has no room."""
        now = self.budget.clock()
        trial_end = min(
            self.budget.deadline - self.reserve(), now + _TRIAL_SHARE * self.budget.seconds
        )
        if trial_end - now < 0.02 * self.budget.seconds:
            self.stopped_by = "budget"
            return None
        return trial_end - now

    def propose(self, trial: optuna.Trial, seconds: float) -> Proposal:
        """The family and parameters ``trial`` samples (a family's defaults first)."""
        family_name = trial.suggest_categorical("family", self.families)
        family = get_family(family_name)
        default = bool(trial.user_attrs.get("default"))
        problem = self.data.problem
        params = family.defaults_for(problem) if default else family.suggest(trial, problem)
        return Proposal(family_name, params, default, min(seconds, self._cost_cap(family_name)))

    def _cost_cap(self, family: str) -> float:
        """Seconds a new trial of ``family`` may take: a few times its best trial's (the
        best of each family is always among the candidates); no cap before one finished."""
        best = next((c for c in self._ranked() if c.family.name == family), None)
        if best is None:
            return float("inf")
        floor = _COST_FLOOR * self.budget.seconds
        return max(_COST_GROWTH * best.fit.fit_seconds, floor)

    def duplicate(self, number: int, proposal: Proposal) -> Earlier | None:
        """The earlier trial that ran ``proposal``'s parameters, counted as a duplicate
        (not fit, not recorded); None when the proposal is new."""
        earlier = self.tried.get(proposal.family, proposal.params)
        if earlier is not None:
            self.duplicates += 1
            self.tallies[proposal.family].duplicates += 1
            self.convergence.record(None)
            self._notify(proposal.family, "duplicate")
        return earlier

    def begin(self, trial: optuna.Trial, seconds: float) -> Started:
        """Propose ``trial``'s family and parameters and record it as started, unless it
        repeats an earlier trial (then marked ``duplicate_of`` on it, and not started)."""
        proposal = self.propose(trial, seconds)
        earlier = self.duplicate(trial.number, proposal)
        if earlier is not None:
            trial.set_user_attr("duplicate_of", earlier.number)
            return Started(proposal, None, earlier)
        # Running: a proposal that repeats it while it fits (parallel trials) is pruned.
        self.tried.add(proposal.family, proposal.params, trial.number, None)
        return Started(proposal, self.start(trial.number, proposal), None)

    def start(self, number: int, proposal: Proposal) -> str | None:
        """Record a trial as started; returns its run id in the log."""
        self.tallies[proposal.family].trials += 1
        return self.log.start(number, proposal.family, proposal.params) if self.log else None

    def finish(
        self, number: int, proposal: Proposal, run_id: str | None, outcome: TrialOutcome
    ) -> bool:
        """Record a pruned or finished trial; a finished one becomes a candidate.

        Returns:
            False when recording it raised: the trial is then recorded as failed, with
            that error, and is no candidate.
        """
        candidate = None
        if not outcome.pruned:
            candidate = Candidate(
                trial=number,
                family=get_family(proposal.family),
                fit=outcome.fit,
                valid_scores=outcome.valid_scores,
                score=outcome.score,
                latency_ms=outcome.latency_ms,
                run_id=run_id,
                default=proposal.default,
                cut_by_deadline=outcome.cut_by_deadline,
                predict_seconds=outcome.predict_seconds,
                fold_estimators=outcome.fold_estimators,
                fold_scores=outcome.fold_scores,
                threads=outcome.threads,
            )
        status = "pruned" if candidate is None else "finished"
        try:
            # Before _drop_weak: the log reads the fitted estimator (diagnostics).
            if self.log:
                self.log.finish(run_id, candidate, outcome.fit, status)
        except Exception as exc:
            self.fail(number, proposal, run_id, exc)
            return False
        tally = self.tallies[proposal.family]
        tally.seconds += outcome.fit.fit_seconds
        if candidate is None:
            self.counts["pruned"] += 1
            tally.pruned += 1
        else:
            self.candidates.append(candidate)
            _drop_weak(self.candidates, self.higher)
            self.counts["done"] += 1
            tally.finished += 1
            tally.late += candidate.cut_by_deadline
        self.tried.add(proposal.family, proposal.params, number, outcome.score)
        self.convergence.record(None if candidate is None else candidate.score)
        self._notify(proposal.family, status)
        return True

    def fail(
        self, number: int, proposal: Proposal, run_id: str | None, error: BaseException
    ) -> None:
        """Record a trial whose fit (or its recording) raised."""
        self.tried.discard(proposal.family, proposal.params, number)
        self.counts["failed"] += 1
        self.failures.append(f"{proposal.family}: {error}")
        tally = self.tallies[proposal.family]
        tally.failed += 1
        tally.late += isinstance(error, TimeoutError)
        tally.error = tally.error or f"{type(error).__name__}: {error}"
        self.convergence.record(None)
        if self.log:
            self.log.fail(run_id, error)
        self._notify(proposal.family, "failed")

    def trials_left(self, running: int = 0) -> int | None:
        """Trials still to start under ``max_trials`` (None: no cap); failures do not count."""
        if self.max_trials is None:
            return None
        left = self.max_trials - self.counts["done"] - self.counts["pruned"] - running
        if left <= 0:
            self.stopped_by = "max_trials"
        return max(left, 0)

    def should_stop(self, running: int = 0) -> bool:
        """Whether to start no more trials: ``max_trials`` reached, or the search
        converged (see :mod:`shipyard.automl._stopping`)."""
        if self.trials_left(running) == 0:
            return True
        if self.convergence.converged():
            self.stopped_by = "converged"
            return True
        return False

    def result(self, trials: int, ensemble: bool) -> SearchResult:
        """The candidates best first, with an ensemble when one beats the best.

        Raises:
            InvalidInput: No trial finished; the message carries the first error.
        """
        if not self.candidates:
            first = f" First error: {self.failures[0]}" if self.failures else ""
            raise InvalidInput(
                f"No model finished within the time budget of {self.budget.seconds:g} s "
                f"({self.counts['failed']} failed, {self.counts['pruned']} pruned).{first} "
                "Give a larger time_budget or fewer families."
            )
        result = SearchResult(
            self.metric,
            self._ranked(),
            trials=trials,
            pruned=self.counts["pruned"],
            failed=self.counts["failed"],
            stopped_by=self.stopped_by,
            failures=self.failures,
            duplicates=self.duplicates,
            converged_after=(self.convergence.trials if self.stopped_by == "converged" else None),
            unimproved=self.convergence.trials - self.convergence.at_best,
            families=family_notes(self.tallies, self.families, self.stopped_by),
            validation="holdout" if self.data.folds is None else self.data.folds.describe(),
        )
        if not ensemble:
            result.ensemble_note = "not built: ensembling was turned off"
        elif len(self.candidates) < 2:
            result.ensemble_note = "not built: only one model finished"
        else:
            result.ensemble_note = choose_ensemble(result, self.data, self.higher)
        if ensemble and len(self.candidates) >= 2:
            result.stack_note = choose_stack(result, self.data, self.higher)
        else:
            result.stack_note = "not built: " + result.ensemble_note.removeprefix("not built: ")
        return result

    def _ranked(self) -> list[Candidate]:
        return sorted(self.candidates, key=lambda c: -c.score if self.higher else c.score)

    def _notify(self, family: str, status: str) -> None:
        if self.on_progress is None:
            return
        best = self._ranked()[0] if self.candidates else None
        self.on_progress(
            SearchProgress(
                trials_done=self.counts["done"],
                trials_pruned=self.counts["pruned"],
                trials_failed=self.counts["failed"],
                metric=self.metric,
                best_score=best.score if best else None,
                best_family=best.family.name if best else None,
                seconds_left=max(0.0, self.budget.left()),
                last_family=family,
                last_status=status,
            )
        )


@contextmanager
def quiet_optuna() -> Iterator[None]:
    """Silence Optuna's per-trial logging: progress goes to ``on_progress``."""
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.CRITICAL)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(verbosity)


def _drop_weak(candidates: list[Candidate], higher: bool) -> None:
    """Free the estimators and predictions of all but the best few candidates and the best
    of each family (what an ensemble or a stack mixes)."""
    ranked = sorted(candidates, key=lambda c: -c.score if higher else c.score)
    kept = {id(c) for c in best_of_families(ranked)}
    for c in ranked[_KEEP:]:
        if id(c) in kept:
            continue
        c.valid_scores = None
        c.fit.estimator = None
        c.fold_estimators = None
