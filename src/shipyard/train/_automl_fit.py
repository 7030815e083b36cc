"""An AutoML search to a finished TabularModel: the search (here or on Ray), the refit of the
chosen model or ensemble on train + validation, and the trials recorded as runs."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from shipyard.automl import (
    Budget,
    Candidate,
    RaySearch,
    SearchData,
    SearchProgress,
    SearchResult,
    cross_validated,
    search,
    search_on_ray,
)
from shipyard.catalog import Catalog
from shipyard.entities import Actor
from shipyard.evaluation import evaluate, evaluate_test
from shipyard.model import (
    Family,
    FeatureEncoder,
    FitResult,
    Problem,
    StackedEstimator,
    StackedFamily,
    fit_calibrator,
)
from shipyard.model.stacking import link_features, stack_scores
from shipyard.train._fitting import Fitted, Options, Parts, combine, finish, model_diagnostics
from shipyard.train._members import Member, bag, final_members, flat, members_ms, train_fit
from shipyard.train._target import choose_target, logged, with_twins
from shipyard.train._threshold import choose_threshold

__all__ = ["CatalogTrialLog", "after_search_seconds", "fit_automl"]

_PROBE_ROWS = 2_000  # rows the work after the search is timed on, before the search
_BOOTSTRAP_ROWS = 10_000  # the report bootstraps at most this many rows (evaluate_test)


def fit_automl(
    encoder: FeatureEncoder,
    problem: Problem,
    parts: Parts,
    options: Options,
    *,
    budget: Budget,
    metric: str,
    families: list[str],
    ensemble: bool,
    max_trials: int | None,
    log: CatalogTrialLog | None,
    on_trial: Callable[[SearchProgress], None] | None,
    say: Callable[[str], None],
    ray: RaySearch | None = None,
    cores: int = 0,
) -> Fitted:
    """Search (in this process, or with its trials on Ray), pick the best model or
    ensemble, refit it on train + valid when time allows.

    Small data is cross-validated (see :mod:`shipyard.automl._cv`): its out-of-fold scores
    then stand in for validation scores, and the final model is the bag of fold models, or
    a refit of the chosen configuration when the bag predicts a row too slowly. ``cores``
    (0: all) is what a search here may use: on small data, one trial per core. A skewed
    regression target is searched with its boosters' log(1 + y) twins beside them, or as
    log(1 + y) alone when asked (:mod:`shipyard.train._target`)."""
    scale, target_note = choose_target(problem, parts, families, options.target)
    log_target = scale == "log"
    families = with_twins(families) if scale == "both" else families
    shown = parts  # y in its own units: what the final model is evaluated on
    parts = logged(parts) if log_target else parts
    data = cross_validated(parts.search_data(problem), seed=options.seed)
    # The refits run alone after the search: all of ``cores`` (a user's count, else all),
    # where a small matrix's trials used one thread each.
    data = replace(data, members_max_ms=members_ms(encoder), refit_threads=cores)
    judged = parts if data.folds is None else _pooled(parts)
    budget.reserve(after_search_seconds(problem, judged, options))
    if log is not None:
        log.bind(problem, judged)
    result = _search(
        data,
        ray,
        metric=metric,
        families=families,
        budget=budget,
        seed=options.seed,
        ensemble=ensemble,
        max_trials=max_trials,
        # Ray reserves each trial's CPUs itself; here the search shares out the cores.
        threads=options.threads if ray else cores,
        log=log,
        on_progress=on_trial,
    )
    chosen = _chosen(result)
    valid_raw = _valid_raw(chosen, problem, result)
    keep = train_fit if data.folds is None else bag
    family_before, estimator_before = _assemble(
        flat([keep(c, w) for c, w in chosen]), problem, result
    )
    found = model_diagnostics(
        problem, judged, family_before, result.best.fit, estimator_before, valid_raw, True
    )
    members, refit = final_members(chosen, problem, parts, options, budget, say, data)
    family_after, estimator_after = _assemble(members, problem, result)
    fitted = finish(
        encoder,
        problem,
        shown if data.folds is None else _pooled(shown),
        options,
        family_before,
        estimator_before,
        family_after,
        estimator_after,
        valid_raw,
        log_target=log_target,
    )
    fitted.diagnostics = found
    _record(fitted, result, chosen, metric, families, budget, refit)
    fitted.summary["target_note"] = target_note
    return fitted


def _record(
    fitted: Fitted,
    result: SearchResult,
    chosen: list[tuple[Candidate, float]],
    metric: str,
    families: list[str],
    budget: Budget,
    refit: int,
) -> None:
    """The search's leaderboard, summary, curves and figures, on ``fitted``."""
    best = result.best
    fitted.curves = best.fit.curves
    fitted.leaderboard = result.leaderboard()
    fitted.summary = _summary(result, fitted, metric, families, budget, refit, len(chosen))
    fitted.metrics["fit"] = {
        "seconds": float(sum(c.fit.fit_seconds for c, _ in chosen)),
        "best_iteration": float(best.fit.best_iteration or 0),
    }
    fitted.metrics["search"] = _search_metrics(result, metric, refit == len(chosen))


def _search_metrics(result: SearchResult, metric: str, refit: bool) -> dict[str, float]:
    """The search's figures as run metrics (with the best model's fold mean and spread
    when it was cross-validated)."""
    best = result.best
    out = {
        "trials": float(result.trials),
        "finished": float(len(result.candidates)),
        "pruned": float(result.pruned),
        "failed": float(result.failed),
        f"best_valid_{metric}": float(_best_valid(result)),
        "refit": float(refit),
    }
    row = best.row()
    if "fold_mean" in row:
        out |= {
            f"best_fold_mean_{metric}": row["fold_mean"],
            f"best_fold_std_{metric}": row["fold_std"],
        }
    return out


def _chosen(result: SearchResult) -> list[tuple[Candidate, float]]:
    """The models the search chose and their weights: the stack's members, the
    ensemble's, or the best model alone."""
    if result.stack is not None:
        pairs = zip(result.stack.members, result.stack.weights, strict=True)
        return [(result.candidates[i], float(w)) for i, w in pairs]
    if result.ensemble:
        return [(result.candidates[i], w) for i, w in result.ensemble.items()]
    return [(result.best, 1.0)]


def _valid_raw(
    chosen: list[tuple[Candidate, float]], problem: Problem, result: SearchResult
) -> np.ndarray:
    """The chosen model's validation scores (out of fold after cross-validation), from its
    members'."""
    scores = [np.asarray(c.valid_scores, dtype=np.float64) for c, _ in chosen]
    if result.stack is not None:
        features = [link_features(problem.type, s) for s in scores]
        return stack_scores(problem.type, features, result.stack.weights, result.stack.bias)
    return np.asarray(np.sum([w * s for s, (_, w) in zip(scores, chosen, strict=True)], axis=0))


def _assemble(members: list[Member], problem: Problem, result: SearchResult) -> tuple[Family, Any]:
    """One model from the chosen members: the stack, the ensemble, or the single model.

    A cross-validated member comes as its fold models, each with 1/k of its weight: in a
    stack that adds the mean of their log-odds (log-probabilities, values), the bag's
    score in the stacker's space, and keeps the stack's explanations exact."""
    if result.stack is not None:
        return StackedFamily(), StackedEstimator(members, result.stack.bias, problem.type)
    return combine(members, problem)


def _best_valid(result: SearchResult) -> float:
    """The chosen model's validation score (out of fold for a stack)."""
    if result.stack is not None:
        return result.stack.oof_score
    return result.ensemble_score if result.ensemble_score is not None else result.best.score


def _search(data: SearchData, ray: RaySearch | None, **arguments: Any) -> SearchResult:
    """The search, here or with its trials on Ray."""
    if ray is None:
        return search(data, **arguments)
    try:
        return search_on_ray(data, ray, **arguments)
    finally:
        # The refit runs here: a Ray started for this job gives its CPUs back now.
        ray.cluster.close()


def _pooled(parts: Parts) -> Parts:
    """``parts`` with train + validation as the validation part: the rows a
    cross-validated search has out-of-fold scores for (calibration, threshold, metrics)."""
    x = {**parts.x, "valid": np.vstack([parts.x["train"], parts.x["valid"]])}
    y = {**parts.y, "valid": np.concatenate([parts.y["train"], parts.y["valid"]])}
    return Parts(x, y, parts.categorical, parts.feature_names)


def _summary(
    result: SearchResult,
    fitted: Fitted,
    metric: str,
    families: list[str],
    budget: Budget,
    refit: int,
    chosen: int,
) -> dict[str, Any]:
    """What the search did and why, as the run, the lineage and the faces show it."""
    return {
        "metric": metric,
        "families": families,
        "trials": result.trials,
        "finished": len(result.candidates),
        "pruned": result.pruned,
        "failed": result.failed,
        "stopped_by": result.stopped_by,
        "converged_after": result.converged_after,
        "unimproved_trials": result.unimproved,
        "duplicates": result.duplicates,
        "family_trials": result.families,
        "ensemble_note": result.ensemble_note,
        "stack_note": result.stack_note,
        "validation": result.validation,
        "chosen": fitted.leaderboard[0]["family"],
        "ensemble": {result.candidates[i].trial: w for i, w in (result.ensemble or {}).items()},
        "refit": refit == chosen,
        "refit_members": f"{refit}/{chosen}",
        "time_budget": budget.seconds,
        **result.execution,
    }


def after_search_seconds(problem: Problem, parts: Parts, options: Options) -> float:
    """Seconds the model-independent work after a search will take here and now:
    calibration, threshold, evaluation of validation and test, the report's statistics.

    Measured, not guessed: the same code runs on two samples of the validation rows (with
    stand-in scores; 500 and 2,000 rows) after a warm-up that pays its first-call imports,
    and the line through the two timings (a fixed cost and a cost per row) is carried to
    the real part sizes. The report's bootstrap stops growing at 10,000 rows; a tenth of
    its cost per row is kept past that. The search keeps a margin on top of this.
    """
    y = parts.y["valid"]
    if len(y) == 0:
        return 0.0
    rng = np.random.default_rng(options.seed)
    sizes = (min(len(y), _PROBE_ROWS // 4), min(len(y), _PROBE_ROWS))
    _after_search_work(problem, y[: min(len(y), 200)], rng, options)  # imports, caches
    (finish_1, report_1), (finish_2, report_2) = (
        _after_search_work(problem, y[rng.choice(len(y), size=n, replace=False)], rng, options)
        for n in sizes
    )
    n_valid, n_test = len(y), len(parts.y["test"])
    report_rows = min(n_test, _BOOTSTRAP_ROWS) + 0.1 * max(0, n_test - _BOOTSTRAP_ROWS)
    return _line(sizes, finish_1, finish_2, n_valid + n_test) + _line(
        sizes, report_1, report_2, report_rows
    )


def _line(sizes: tuple[int, int], first: float, second: float, rows: float) -> float:
    """The time at ``rows`` on the line through two timings (at least the larger one)."""
    per_row = max(0.0, (second - first) / (sizes[1] - sizes[0])) if sizes[1] > sizes[0] else 0.0
    fixed = max(0.0, first - per_row * sizes[0])
    return max(second, fixed + per_row * rows)


def _after_search_work(
    problem: Problem, y: np.ndarray, rng: np.random.Generator, options: Options
) -> tuple[float, float]:
    """Seconds of _finish's statistics and of the report's, on ``y`` with stand-in scores."""
    started = time.perf_counter()
    n = len(y)
    if problem.type == "binary":
        scores = np.clip(0.5 * y + 0.5 * rng.random(n), 0.0, 1.0)
        with threadpool_limits(1):
            fit_calibrator(y, scores, method=options.calibration, seed=options.seed)
        threshold, decision = choose_threshold(
            y, scores, cost_fp=options.cost_fp, cost_fn=options.cost_fn, alert_rate=None
        )
    elif problem.type == "multiclass":
        k = len(problem.classes)
        scores = rng.dirichlet(np.ones(k), size=n)
        threshold, decision = 0.5, {}
    else:
        scores = y + rng.normal(size=n)
        threshold, decision = 0.5, {}
    evaluate(problem.type, y, scores, threshold=threshold)
    finish = time.perf_counter() - started
    started = time.perf_counter()
    evaluate_test(problem, y, scores, threshold=threshold, decision=decision, seed=options.seed)
    return finish, time.perf_counter() - started


class CatalogTrialLog:
    """Records every AutoML trial as a run of the model's experiment, with its curves and
    diagnostics, so ``runs list / show / compare`` can show them."""

    def __init__(self, catalog: Catalog, actor: Actor, experiment: str, parent: str, inputs: Any):
        self.catalog = catalog
        self.actor = actor
        self.experiment = experiment
        self.parent = parent
        self.inputs = inputs
        self._problem: Problem | None = None
        self._parts: Parts | None = None

    def bind(self, problem: Problem, parts: Parts) -> None:
        self._problem, self._parts = problem, parts

    def start(self, number: int, family: str, params: dict[str, Any]) -> str | None:
        run = self.catalog.create_run(
            experiment=self.experiment,
            name=f"trial-{number}-{family}",
            params={"family": family, **params},
            tags={"kind": "trial", "parent_run": self.parent, "trial": number},
            inputs=self.inputs,
            actor=self.actor,
        )
        return run.id

    def finish(
        self, run_id: str | None, candidate: Candidate | None, fit: FitResult, outcome: str
    ) -> None:
        if run_id is None:
            return
        for key, values in fit.curves.items():
            if values:
                self.catalog.log_curve(run_id, key, list(enumerate(values, start=1)))
        metrics: dict[str, Any] = {"fit_seconds": fit.fit_seconds}
        outputs: dict[str, Any] = {"outcome": outcome, "params": fit.params}
        if fit.best_iteration is not None:
            metrics["best_iteration"] = float(fit.best_iteration)
        if candidate is not None:
            metrics["valid_score"] = candidate.score
            metrics["predict_ms_per_row"] = candidate.latency_ms
            outputs["cut_by_deadline"] = candidate.cut_by_deadline
            if self._problem is not None and self._parts is not None:
                outputs["diagnostics"] = model_diagnostics(
                    self._problem,
                    self._parts,
                    candidate.family,
                    fit,
                    fit.estimator,
                    candidate.valid_scores,
                    False,
                )
        self.catalog.finish_run(
            run_id, status="finished", metrics=metrics, outputs=outputs, actor=self.actor
        )

    def fail(self, run_id: str | None, error: BaseException) -> None:
        if run_id is None:
            return
        self.catalog.finish_run(
            run_id,
            status="failed",
            error="".join(traceback.format_exception_only(error)).strip(),
            actor=self.actor,
        )
