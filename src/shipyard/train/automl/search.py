"""The AutoML search: Optuna TPE over families and their parameters, inside a time budget.

Each family's default configuration runs first, so a short budget still yields a good model;
then TPE (multivariate, grouped by family) proposes the rest. Boosters early-stop on
validation and every family reports its validation loss as it grows, so Optuna can prune a
trial that trails its family's median and the budget can cut one that runs late. Time for
the final refit and registration is reserved from the start and re-estimated after every
trial.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import optuna

from shipyard.errors import InvalidInput, did_you_mean
from shipyard.train.automl._budget import Budget
from shipyard.train.automl._ensemble import caruana_select
from shipyard.train.automl._metrics import higher_is_better, score
from shipyard.train.automl._pruner import FamilyMedianPruner
from shipyard.train.families import FAMILIES, Family, FitResult, IterationHook, get_family
from shipyard.types import ProblemType

__all__ = [
    "Candidate",
    "SearchData",
    "SearchProgress",
    "SearchResult",
    "TrialLog",
    "check_families",
    "refit_seconds",
    "search",
]

_POOL = 8  # best candidates offered to ensemble selection
_KEEP = 12  # candidates whose fitted estimators stay in memory for the ensemble
_REPORT_EVERY = 5
_TRIAL_SHARE = 0.25
_MARGIN = 0.05  # no single trial may take more than this share of the budget
_LATENCY_REPEATS = 10


@dataclass
class SearchData:
    """Encoded training and validation matrices and targets."""

    problem: ProblemType
    n_classes: int
    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray
    y_valid: np.ndarray
    categorical: list[int]

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
        return family.fit(
            self.problem,
            self.n_classes,
            self.x_train,
            self.y_train,
            self.x_valid,
            self.y_valid,
            self.categorical,
            params,
            seed,
            on_iteration=on_iteration,
            threads=threads,
        )


@dataclass
class Candidate:
    """A finished trial: the fitted model, its validation scores and figures."""

    trial: int
    family: Family
    fit: FitResult
    valid_scores: np.ndarray | None
    score: float
    latency_ms: float
    run_id: str | None = None
    default: bool = False
    cut_by_deadline: bool = False

    def row(self) -> dict[str, Any]:
        return {
            "trial": self.trial,
            "family": self.family.name,
            "params": self.fit.params,
            "valid_score": self.score,
            "fit_seconds": round(self.fit.fit_seconds, 4),
            "predict_ms_per_row": round(self.latency_ms, 4),
            "best_iteration": self.fit.best_iteration,
            "default_config": self.default,
            "cut_by_deadline": self.cut_by_deadline,
            "run_id": self.run_id,
        }


@dataclass(frozen=True)
class SearchProgress:
    """What a progress callback sees after every trial."""

    trials_done: int
    trials_pruned: int
    trials_failed: int
    metric: str
    best_score: float | None
    best_family: str | None
    seconds_left: float
    last_family: str
    last_status: str


@dataclass
class SearchResult:
    """Every finished candidate (best first) and the ensemble chosen from them, if any."""

    metric: str
    candidates: list[Candidate]
    trials: int
    pruned: int
    failed: int
    ensemble: dict[int, float] | None = None
    ensemble_score: float | None = None
    stopped_by: str = "budget"
    failures: list[str] = field(default_factory=list)

    @property
    def best(self) -> Candidate:
        return self.candidates[0]

    def leaderboard(self) -> list[dict[str, Any]]:
        """Rows best first: family, params, validation score, fit time, latency per row."""
        rows = [c.row() for c in self.candidates]
        if self.ensemble is not None and self.ensemble_score is not None:
            members = {self.candidates[i].trial: round(w, 4) for i, w in self.ensemble.items()}
            rows.insert(
                0,
                {
                    "trial": None,
                    "family": "ensemble",
                    "params": {"members": members},
                    "valid_score": self.ensemble_score,
                    "fit_seconds": round(
                        sum(self.candidates[i].fit.fit_seconds for i in self.ensemble), 4
                    ),
                    "predict_ms_per_row": round(
                        sum(self.candidates[i].latency_ms for i in self.ensemble), 4
                    ),
                },
            )
        for rank, row in enumerate(rows, start=1):
            row["rank"] = rank
        return rows


class TrialLog(Protocol):
    """Where trials are recorded (the catalog, in a training job)."""

    def start(self, number: int, family: str, params: dict[str, Any]) -> str | None: ...

    def finish(
        self, run_id: str | None, candidate: Candidate | None, fit: FitResult, outcome: str
    ) -> None: ...

    def fail(self, run_id: str | None, error: BaseException) -> None: ...


def check_families(families: Sequence[str] | None) -> list[str]:
    """The families to search (all when None), validated.

    Raises:
        InvalidInput: An unknown name, or an empty list.
    """
    if families is None:
        return list(FAMILIES)
    if isinstance(families, str):
        families = [families]
    chosen = list(dict.fromkeys(families))
    if not chosen:
        raise InvalidInput(
            f"The 'families' parameter of train must name at least one family. "
            f"Known families: {', '.join(FAMILIES)}."
        )
    for name in chosen:
        if name not in FAMILIES:
            raise InvalidInput(
                f"Unknown model family '{name}'.{did_you_mean(name, FAMILIES)} "
                f"Known families: {', '.join(FAMILIES)}."
            )
    return chosen


def refit_seconds(candidates: Sequence[Candidate], n_train: int, n_all: int) -> float:
    """Estimated seconds to refit ``candidates`` on ``n_all`` rows (with a 30% margin)."""
    total = 0.0
    for c in candidates:
        seconds = c.fit.fit_seconds
        rounds = len(c.fit.curves.get("valid_loss", ()))
        if c.family.iterative and c.fit.best_iteration and rounds:
            seconds *= min(1.0, c.fit.best_iteration / rounds)
        total += seconds * n_all / max(n_train, 1)
    return 1.3 * total


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
    """Search families and parameters until the budget (minus refit reserve) is spent.

    Raises:
        InvalidInput: No trial finished (every one failed, or the budget was too short for
            even one); the message carries the first error.
    """
    higher = higher_is_better(metric)
    n_all = len(data.y_train) + len(data.y_valid)
    candidates: list[Candidate] = []
    counts = {"done": 0, "pruned": 0, "failed": 0}
    failures: list[str] = []
    stopped_by = ["budget"]

    def reserve() -> float:
        # Room to refit the best model and most of a second one (an ensemble); an ensemble
        # whose refit still does not fit keeps its members as fit on train.
        top = sorted(candidates, key=lambda c: -c.score if higher else c.score)[:2]
        refit = sum(
            share * refit_seconds([c], len(data.y_train), n_all)
            for share, c in zip((1.0, 0.5), top, strict=False)
        )
        # Extra overhead: the last trial's bookkeeping (scoring validation, latency, the
        # catalog) and ensemble selection run after its deadline.
        return 1.5 * budget.overhead() + _MARGIN * budget.seconds + refit

    def objective(trial: optuna.Trial) -> float:
        family_name = trial.suggest_categorical("family", list(families))
        family = get_family(family_name)
        default = bool(trial.user_attrs.get("default"))
        params = dict(family.defaults) if default else family.suggest(trial, data.problem)
        now = budget.clock()
        trial_end = min(budget.deadline - reserve(), now + _TRIAL_SHARE * budget.seconds)
        if trial_end - now < 0.02 * budget.seconds:
            stopped_by[0] = "budget"
            trial.study.stop()
            raise optuna.TrialPruned("out of time")
        state = {"deadline": False, "pruned": False}

        def hook(iteration: int, loss: float) -> bool:
            if budget.clock() >= trial_end:
                state["deadline"] = True
                return True
            if iteration % _REPORT_EVERY == 0 and np.isfinite(loss):
                trial.report(loss, iteration)
                if trial.should_prune():
                    state["pruned"] = True
                    return True
            return False

        run_id = log.start(trial.number, family_name, params) if log else None
        try:
            fit = data.fit(family, params, seed, on_iteration=hook, threads=threads)
            if state["pruned"]:
                counts["pruned"] += 1
                if log:
                    log.finish(run_id, None, fit, "pruned")
                _notify(on_progress, counts, metric, candidates, budget, family_name, "pruned")
                raise optuna.TrialPruned()
            valid_scores = family.predict(fit.estimator, data.x_valid, threads=threads)
            value = score(metric, data.problem, data.y_valid, valid_scores)
            if not np.isfinite(value):
                raise InvalidInput(f"{family_name} produced a non-finite {metric} ({value}).")
            candidate = Candidate(
                trial=trial.number,
                family=family,
                fit=fit,
                valid_scores=valid_scores,
                score=value,
                latency_ms=_latency_ms(family, fit.estimator, data.x_valid[:1]),
                run_id=run_id,
                default=default,
                cut_by_deadline=state["deadline"],
            )
        except optuna.TrialPruned:
            raise
        except Exception as exc:
            counts["failed"] += 1
            failures.append(f"{family_name}: {exc}")
            if log:
                log.fail(run_id, exc)
            _notify(on_progress, counts, metric, candidates, budget, family_name, "failed")
            raise
        except BaseException as exc:  # interrupted: the trial's run ends too, then unwind
            if log:
                log.fail(run_id, exc)
            raise
        candidates.append(candidate)
        _drop_weak(candidates, higher)
        counts["done"] += 1
        if log:
            log.finish(run_id, candidate, fit, "finished")
        _notify(on_progress, counts, metric, candidates, budget, family_name, "finished")
        if max_trials is not None and counts["done"] + counts["pruned"] >= max_trials:
            stopped_by[0] = "max_trials"
            trial.study.stop()
        return value

    with warnings.catch_warnings():
        # multivariate + group TPE is marked experimental; it is what conditional spaces need
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(
            multivariate=True, group=True, seed=seed, n_startup_trials=len(families) + 4
        )
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.CRITICAL)  # progress goes to on_progress
    try:
        study = optuna.create_study(
            direction="maximize" if higher else "minimize",
            sampler=sampler,
            pruner=FamilyMedianPruner(),
        )
        for name in families:
            study.enqueue_trial({"family": name}, user_attrs={"default": True})
        study.optimize(objective, catch=(Exception,), gc_after_trial=False)
    finally:
        optuna.logging.set_verbosity(verbosity)
    if not candidates:
        first = f" First error: {failures[0]}" if failures else ""
        raise InvalidInput(
            f"No model finished within the time budget of {budget.seconds:g} s "
            f"({counts['failed']} failed, {counts['pruned']} pruned).{first} "
            "Give a larger time_budget or fewer families."
        )
    candidates.sort(key=lambda c: -c.score if higher else c.score)
    result = SearchResult(
        metric,
        candidates,
        trials=len(study.trials),
        pruned=counts["pruned"],
        failed=counts["failed"],
        stopped_by=stopped_by[0],
        failures=failures,
    )
    if ensemble and len(candidates) > 1:
        _choose_ensemble(result, data, higher)
    return result


def _choose_ensemble(result: SearchResult, data: SearchData, higher: bool) -> None:
    pool = [c for c in result.candidates if c.valid_scores is not None][:_POOL]
    predictions = [c.valid_scores for c in pool]
    weights, value = caruana_select(
        predictions,  # type: ignore[arg-type]
        lambda p: score(result.metric, data.problem, data.y_valid, p),
        higher_is_better=higher,
    )
    if len(weights) < 2:
        return
    better = value > result.best.score if higher else value < result.best.score
    if better:
        result.ensemble = {result.candidates.index(pool[i]): w for i, w in weights.items()}
        result.ensemble_score = value


def _drop_weak(candidates: list[Candidate], higher: bool) -> None:
    """Free the estimators and predictions of all but the best few candidates."""
    ranked = sorted(candidates, key=lambda c: -c.score if higher else c.score)
    for c in ranked[_KEEP:]:
        c.valid_scores = None
        c.fit.estimator = None


def _latency_ms(family: Family, estimator: Any, row: np.ndarray) -> float:
    family.predict(estimator, row, threads=1)
    times = []
    for _ in range(_LATENCY_REPEATS):
        started = time.perf_counter()
        family.predict(estimator, row, threads=1)
        times.append(time.perf_counter() - started)
    return float(np.median(times) * 1000)


def _notify(
    callback: Callable[[SearchProgress], None] | None,
    counts: dict[str, int],
    metric: str,
    candidates: list[Candidate],
    budget: Budget,
    family: str,
    status: str,
) -> None:
    if callback is None:
        return
    higher = higher_is_better(metric)
    best = max(candidates, key=lambda c: c.score if higher else -c.score, default=None)
    callback(
        SearchProgress(
            trials_done=counts["done"],
            trials_pruned=counts["pruned"],
            trials_failed=counts["failed"],
            metric=metric,
            best_score=best.score if best else None,
            best_family=best.family.name if best else None,
            seconds_left=max(0.0, budget.left()),
            last_family=family,
            last_status=status,
        )
    )
