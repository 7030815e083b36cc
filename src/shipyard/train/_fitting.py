"""From encoded parts to a finished TabularModel: one fit or an AutoML search, then the
refit, calibration, decision threshold, evaluation and diagnostics shared by both."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from shipyard.automl import (
    Budget,
    Candidate,
    RaySearch,
    SearchData,
    SearchProgress,
    refit_seconds,
    search,
    search_on_ray,
)
from shipyard.catalog import Catalog
from shipyard.entities import Actor
from shipyard.evaluation import evaluate, evaluate_test
from shipyard.model import (
    Calibrator,
    EnsembleEstimator,
    EnsembleFamily,
    Family,
    FeatureEncoder,
    FitData,
    FitResult,
    Problem,
    TabularModel,
    fit_calibrator,
)
from shipyard.train._diagnostics import baseline_loss, diagnose, loss
from shipyard.train._threshold import choose_threshold

__all__ = ["Fitted", "Parts", "auto_threads", "fit_automl", "fit_single"]

_DIAGNOSE_ROWS = 20_000
_SMALL_CELLS = 2_000_000  # below this many matrix cells, one thread beats OpenMP's overhead
_PROBE_ROWS = 2_000  # rows the work after the search is timed on, before the search
_BOOTSTRAP_ROWS = 10_000  # the report bootstraps at most this many rows (evaluate_test)


def auto_threads(threads: int, x: np.ndarray) -> int:
    """``threads`` when given; else 1 for a small matrix, 0 (all cores) for a large one."""
    if threads:
        return threads
    return 1 if x.size < _SMALL_CELLS else 0


@dataclass
class Parts:
    """Encoded matrices and targets of the train / valid / test parts."""

    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    categorical: list[int]
    feature_names: list[str]

    def search_data(self, problem: Problem) -> SearchData:
        """The train and validation parts, as the families fit them."""
        return SearchData(
            problem.type,
            len(problem.classes),
            self.x["train"],
            self.y["train"],
            self.x["valid"],
            self.y["valid"],
            self.categorical,
            score_rows=len(self.y["test"]) + min(len(self.y["train"]), _DIAGNOSE_ROWS),
        )


@dataclass
class Options:
    """How the model turns scores into decisions."""

    cost_fp: float | None = None
    cost_fn: float | None = None
    alert_rate: float | None = None
    calibration: str = "auto"
    seed: int = 0
    threads: int = 0


@dataclass
class Fitted:
    """The finished model and everything the job records about how it was made."""

    model: TabularModel
    metrics: dict[str, dict[str, float]]
    curves: dict[str, list[float]]
    diagnostics: list[dict[str, Any]]
    leaderboard: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    test_scores: np.ndarray = field(default_factory=lambda: np.empty(0))


def fit_single(
    encoder: FeatureEncoder,
    family: Family,
    problem: Problem,
    parts: Parts,
    params: dict[str, Any] | None,
    options: Options,
) -> Fitted:
    """One fit of one family on train, early-stopped on validation."""
    fit = parts.search_data(problem).fit(family, params, options.seed, threads=options.threads)
    valid_raw = family.predict(fit.estimator, parts.x["valid"], threads=options.threads)
    fitted = _finish(
        encoder, problem, parts, options, family, fit.estimator, family, fit.estimator, valid_raw
    )
    fitted.diagnostics = _diagnostics(problem, parts, family, fit, fit.estimator, valid_raw, True)
    fitted.metrics["fit"] = {
        "seconds": fit.fit_seconds,
        "best_iteration": float(fit.best_iteration or 0),
    }
    fitted.curves = fit.curves
    return fitted


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
) -> Fitted:
    """Search (in this process, or with its trials on Ray), pick the best model or
    ensemble, refit it on train + valid when time allows."""
    data = parts.search_data(problem)
    budget.reserve(after_search_seconds(problem, parts, options))
    if log is not None:
        log.bind(problem, parts)
    arguments: dict[str, Any] = {
        "metric": metric,
        "families": families,
        "budget": budget,
        "seed": options.seed,
        "ensemble": ensemble,
        "max_trials": max_trials,
        "threads": options.threads,
        "log": log,
        "on_progress": on_trial,
    }
    if ray is None:
        result = search(data, **arguments)
    else:
        try:
            result = search_on_ray(data, ray, **arguments)
        finally:
            # The refit runs here: a Ray started for this job gives its CPUs back now.
            ray.cluster.close()
    if result.ensemble:
        chosen = [(result.candidates[i], w) for i, w in result.ensemble.items()]
    else:
        chosen = [(result.best, 1.0)]
    valid_raw = np.asarray(
        np.sum([w * np.asarray(c.valid_scores) for c, w in chosen], axis=0), dtype=np.float64
    )
    family_before, estimator_before = _combine(
        [(c.family, c.fit.estimator, w) for c, w in chosen], problem
    )

    best = result.best
    diagnostics = _diagnostics(
        problem, parts, family_before, best.fit, estimator_before, valid_raw, True
    )
    n_train, n_all = len(parts.y["train"]), len(parts.y["train"]) + len(parts.y["valid"])
    refit = 0
    # Refit the heaviest-weighted members first, each only if its estimated time still fits;
    # a member that does not keeps the model fit on train (weights came from validation).
    everything = FitData(
        problem.type,
        len(problem.classes),
        np.vstack([parts.x["train"], parts.x["valid"]]),
        np.concatenate([parts.y["train"], parts.y["valid"]]),
        None,
        None,
        parts.categorical,
    )
    members: dict[int, tuple[Family, Any, float]] = {}
    for k, (c, w) in sorted(enumerate(chosen), key=lambda item: -item[1][1]):
        estimator = c.fit.estimator
        if budget.left() - budget.overhead() >= refit_seconds([c], n_train, n_all):
            say(f"Refitting {c.family.name} on train + validation")
            estimator = c.family.fit(
                everything,
                c.family.refit_params(c.fit),
                options.seed,
                threads=options.threads,
            ).estimator
            refit += 1
        else:
            say(f"Not enough time left to refit {c.family.name}: keeping its fit on train")
        members[k] = (c.family, estimator, w)
    family_after, estimator_after = _combine([members[k] for k in range(len(chosen))], problem)
    fitted = _finish(
        encoder,
        problem,
        parts,
        options,
        family_before,
        estimator_before,
        family_after,
        estimator_after,
        valid_raw,
    )
    fitted.diagnostics = diagnostics
    fitted.curves = best.fit.curves
    fitted.leaderboard = result.leaderboard()
    fitted.summary = {
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
        "chosen": fitted.leaderboard[0]["family"],
        "ensemble": {result.candidates[i].trial: w for i, w in (result.ensemble or {}).items()},
        "refit": refit == len(chosen),
        "refit_members": f"{refit}/{len(chosen)}",
        "time_budget": budget.seconds,
        **result.execution,
    }
    fitted.metrics["fit"] = {
        "seconds": float(sum(c.fit.fit_seconds for c, _ in chosen)),
        "best_iteration": float(best.fit.best_iteration or 0),
    }
    fitted.metrics["search"] = {
        "trials": float(result.trials),
        "finished": float(len(result.candidates)),
        "pruned": float(result.pruned),
        "failed": float(result.failed),
        f"best_valid_{metric}": float(
            result.ensemble_score if result.ensemble_score is not None else best.score
        ),
        "refit": float(refit == len(chosen)),
    }
    return fitted


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


def _combine(members: list[tuple[Family, Any, float]], problem: Problem) -> tuple[Family, Any]:
    if len(members) == 1:
        return members[0][0], members[0][1]
    return EnsembleFamily(), EnsembleEstimator(members, problem.type)


def _finish(
    encoder: FeatureEncoder,
    problem: Problem,
    parts: Parts,
    options: Options,
    family_before: Family,
    estimator_before: Any,
    family_after: Family,
    estimator_after: Any,
    valid_raw: np.ndarray,
) -> Fitted:
    """Calibrate and choose the threshold on validation scores of the model fit on train;
    evaluate validation with it and test with the final (possibly refit) model."""
    y_valid = parts.y["valid"]
    calibrator: Calibrator | None = None
    threshold = 0.5
    decision: dict[str, Any] = {"rule": "f1"}
    valid_scores = valid_raw
    calibration_info: dict[str, Any] = {"method": "none"}
    if problem.type == "binary":
        # A two-parameter fit: BLAS threads only spin, and on a busy machine that made
        # calibration several times slower (3.1 s instead of 0.8 s on 5,000 rows).
        with threadpool_limits(1):
            calibrator, calibration_info = fit_calibrator(
                y_valid, valid_raw, method=options.calibration, seed=options.seed
            )
        if calibrator is not None:
            valid_scores = calibrator.apply(valid_raw)
        threshold, decision = choose_threshold(
            y_valid,
            valid_scores,
            cost_fp=options.cost_fp,
            cost_fn=options.cost_fn,
            alert_rate=options.alert_rate,
        )
        decision["calibration"] = calibration_info
    model = TabularModel(
        encoder, family_after, estimator_after, problem, threshold, calibrator, decision
    )
    test_scores = model.predict_scores(parts.x["test"], threads=options.threads)
    metrics = {
        "valid": evaluate(problem.type, y_valid, valid_scores, threshold=threshold),
        "test": evaluate(problem.type, parts.y["test"], test_scores, threshold=threshold),
    }
    return Fitted(model, metrics, {}, [], test_scores=test_scores)


def _diagnostics(
    problem: Problem,
    parts: Parts,
    family: Family,
    fit: FitResult,
    estimator: Any,
    valid_raw: np.ndarray | None,
    with_train: bool,
) -> list[dict[str, Any]]:
    n_classes = len(problem.classes)
    y_train, y_valid = parts.y["train"], parts.y["valid"]
    train_loss = None
    if with_train:
        # A sample is enough to compare with validation, and keeps big data within budget.
        rows = slice(None) if len(y_train) <= _DIAGNOSE_ROWS else slice(0, _DIAGNOSE_ROWS)
        scores = family.predict(estimator, parts.x["train"][rows])
        train_loss = loss(problem.type, y_train[rows], scores)
    valid_loss = loss(problem.type, y_valid, valid_raw) if valid_raw is not None else None
    valid_auc = _auc(problem, y_valid, valid_raw) if valid_raw is not None else None
    width = len(parts.feature_names)
    member = family if not isinstance(family, EnsembleFamily) else None
    return diagnose(
        problem=problem.type,
        y_train=y_train,
        curves=fit.curves,
        train_loss=train_loss,
        valid_loss=valid_loss,
        valid_auc=valid_auc,
        baseline=baseline_loss(problem.type, y_train, y_valid, n_classes),
        importance=family.importance(estimator, width),
        feature_names=parts.feature_names,
        tree_stats=member.tree_stats(estimator, fit.params) if member else None,
        params=fit.params,
    )


def _auc(problem: Problem, y: np.ndarray, scores: np.ndarray) -> float | None:
    """Validation ROC AUC (one-vs-rest for multiclass), None when it is undefined."""
    from sklearn.metrics import roc_auc_score

    if problem.type == "regression":
        return None
    try:
        if problem.type == "binary":
            return float(roc_auc_score(y, scores))
        return float(roc_auc_score(y, scores, multi_class="ovr", labels=np.arange(scores.shape[1])))
    except ValueError:  # a class missing from the validation part
        return None


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
                outputs["diagnostics"] = _diagnostics(
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
