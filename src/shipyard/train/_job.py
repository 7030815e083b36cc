"""The training entry point: dataset version in, evaluated and registered model version out.

Without a time budget, one fit of one family (``family``); with ``time_budget``, an AutoML
search over ``families`` whose trials are runs of the model's experiment, ensembled and refit
on train + validation, all within the budget (the whole call, registration included). With
``backend="ray"`` the trials run as Ray tasks sharing one Optuna study.
"""

from __future__ import annotations

import dataclasses
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shipyard._testhooks import crash_point
from shipyard.automl import Budget, Clock, RaySearch, SearchProgress, study_storage
from shipyard.compute import connect_ray, require_ray
from shipyard.entities import ModelVersion, Run, to_json
from shipyard.errors import InvalidInput
from shipyard.evaluation import StoredEvaluation, write_evaluation
from shipyard.features import FEATURES_KEY, model_features
from shipyard.model import FAMILIES, Problem, get_family
from shipyard.monitor import baseline_seconds
from shipyard.project import Project
from shipyard.registry import publish_model, register_model
from shipyard.tracking import Heartbeat, fail_own_runs
from shipyard.train._anomaly import train_anomaly
from shipyard.train._automl_fit import CatalogTrialLog, fit_automl
from shipyard.train._fitting import Fitted, Options, auto_threads, fit_single, row_latency_ms
from shipyard.train._memory import warn_if_too_small
from shipyard.train._pitfalls import tuning
from shipyard.train._prepare import Prepared, prepare
from shipyard.train._records import held_out_files, write_baseline
from shipyard.train._spec import TrainSpec

__all__ = ["TrainResult", "train"]

Progress = Callable[[str], None]


@dataclass
class TrainResult:
    """What a training job produced.

    ``leaderboard`` (AutoML only) lists the trials best first: family, params, validation
    score, fit seconds, predict milliseconds per row. ``diagnostics`` are the findings about
    the chosen model (see :mod:`shipyard.train._diagnostics`); ``findings`` what the job
    found besides them and the split's findings (too little data, an untuned model);
    ``dropped_columns`` the columns that were not features although nobody excluded them
    (dates, identifiers, columns Shipyard wrote, unsupported types), with why.
    """

    run: Run
    model_version: ModelVersion
    problem: Problem
    metrics: dict[str, dict[str, float]]
    split: dict[str, Any]
    dropped_columns: dict[str, str] = field(default_factory=dict)
    leaderboard: list[dict[str, Any]] = field(default_factory=list)
    diagnostics: list[dict[str, Any]] = field(default_factory=list)
    search: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    evaluation: StoredEvaluation | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)


def train(
    project: Project,
    dataset: str,
    target: str | None,
    spec: TrainSpec | None = None,
    *,
    progress: Progress | None = None,
    on_trial: Callable[[SearchProgress], None] | None = None,
    clock: Clock | None = None,
    **options: Any,
) -> TrainResult:
    """Split a dataset version, fit (or search), evaluate on validation and test, register.

    Args:
        spec: What to do (:class:`TrainSpec`); or give its options as keywords instead
            (``split="time", time_column="day", time_budget=60``, see :meth:`TrainSpec.of`).
        progress: Called with a line of text at each stage.
        on_trial: Called after every AutoML trial with a :class:`SearchProgress`.
        clock: Monotonic seconds for the budget (tests inject one).

    ``problem_type="anomaly"`` fits an unsupervised detector; ``target`` is then an optional
    label that only evaluates it (:func:`shipyard.train._anomaly.train_anomaly`).

    Raises:
        NotFound: The dataset or a named column does not exist.
        InvalidInput: An invalid spec or option, no target (supervised), a target that
            cannot be learned (one class, an unsupported type), a split that leaks (unless
            ``allow_leakage``), or a budget too small for the data.
        BackendUnavailable: ``backend="ray"`` and Ray is not installed (the message gives
            the install command) or its cluster cannot be reached.
    """
    spec = _spec_of(spec, options)
    search = spec.search
    budget = (
        Budget(search.time_budget, clock or time.monotonic)
        if search.time_budget is not None
        else None
    )
    started = budget.started if budget else time.monotonic()
    say = progress or (lambda _msg: None)
    if spec.problem_type == "anomaly":
        return train_anomaly(project, dataset, target, spec, say)
    target = _supervised_target(target)
    if search.backend == "ray":
        require_ray()  # before reading any data: without Ray, say so at once
    warn_if_too_small(project, dataset, target, spec)
    data = prepare(project, dataset, target, spec, say)
    if budget is not None:
        budget.reserve(
            data.report_options.seconds(len(data.split.test))
            + baseline_seconds(len(data.labelled), budget.seconds)
        )
        _check_time_left(budget)
    run = _start_run(project, spec, data)
    heartbeat = Heartbeat(project.catalog).start()
    try:
        fitted = _fit(project, spec, data, run, budget, say, on_trial)
        model_version, evaluation = _publish(project, spec, data, run, fitted, say)
        run = project.catalog.get_run(run.id)
    except BaseException as exc:
        error = "".join(traceback.format_exception_only(exc)).strip()
        project.catalog.finish_run(run.id, status="failed", error=error, actor=project.actor)
        fail_own_runs(project.catalog, project.actor, run.experiment, error)
        raise
    finally:
        heartbeat.stop()
    return TrainResult(
        run,
        model_version,
        data.problem,
        fitted.metrics,
        data.split.summary(),
        data.dropped,
        leaderboard=fitted.leaderboard,
        diagnostics=fitted.diagnostics,
        search=fitted.summary,
        seconds=(budget.clock() if budget else time.monotonic()) - started,
        evaluation=evaluation,
        findings=data.findings,
    )


def _spec_of(spec: TrainSpec | None, options: dict[str, Any]) -> TrainSpec:
    if spec is None:
        return TrainSpec.of(**options)
    if options:
        raise InvalidInput(
            f"Give train() either a spec or keyword options, not both. Got a spec and "
            f"{', '.join(sorted(options))}."
        )
    return spec


def _supervised_target(target: str | None) -> str:
    if not target:
        raise InvalidInput(
            "train needs a target column to predict (--target COLUMN); for data without "
            "labels, train an anomaly model (--problem anomaly)."
        )
    return target


def _start_run(project: Project, spec: TrainSpec, data: Prepared) -> Run:
    """Record the job as a run of the model's experiment, with everything it was asked."""
    search, decision = spec.search, spec.decision
    params: dict[str, Any] = {"seed": spec.seed, "split": data.split.summary()}
    if search.automl:
        params.update(
            family="automl",
            families=list(search.families or FAMILIES),
            metric=data.metric,
            time_budget=search.time_budget,
            ensemble=search.ensemble,
        )
    else:
        params.update(family=search.family, **(search.params or {}))
    params["backend"] = search.backend
    if spec.anomaly_feature is not None:
        params["anomaly_feature"] = spec.anomaly_feature
    if search.backend == "ray":
        params["ray_address"] = search.ray_address or project.settings.ray_address
    params["decision"] = {
        "rule": decision.rule,
        "cost_fp": decision.cost_fp,
        "cost_fn": decision.cost_fn,
        "alert_rate": decision.alert_rate,
        "calibration": decision.calibration,
    }
    kind = "automl" if search.automl else "single"
    return project.catalog.create_run(
        experiment=_model_name(spec, data),
        name=f"{'automl' if search.automl else search.family}-{int(time.time())}",
        params=params,
        tags={
            "allow_leakage": spec.split.allow_leakage,
            "problem_type": data.problem.type,
            "kind": kind,
            "untuned": tuning(spec)["untuned"],
        },
        inputs=data.inputs,
        actor=project.actor,
    )


def _fit(
    project: Project,
    spec: TrainSpec,
    data: Prepared,
    run: Run,
    budget: Budget | None,
    say: Progress,
    on_trial: Callable[[SearchProgress], None] | None,
) -> Fitted:
    """One fit of one family, or the AutoML search, to a finished model."""
    search, decision = spec.search, spec.decision
    options = Options(
        decision.cost_fp,
        decision.cost_fn,
        decision.alert_rate,
        decision.calibration,
        spec.seed,
        auto_threads(search.threads, data.parts.x["train"]),
        search.target_transform,
    )
    if budget is None:
        say(f"Fitting {search.family} on {len(data.split.train):,} rows")
        params = dict(search.params) if search.params else None
        family = get_family(search.family)
        return fit_single(data.encoder, family, data.problem, data.parts, params, options)
    families = list(search.families or FAMILIES)
    say(f"Searching {', '.join(families)} for {budget.left():.0f} s (optimizing {data.metric})")
    on_ray = (
        _join_ray(project, search.ray_address, run.id, budget, say)
        if search.backend == "ray"
        else None
    )
    name = _model_name(spec, data)
    return fit_automl(
        data.encoder,
        data.problem,
        data.parts,
        options,
        budget=budget,
        metric=str(data.metric),
        families=families,
        ensemble=search.ensemble,
        max_trials=search.max_trials,
        log=CatalogTrialLog(project.catalog, project.actor, name, run.id, data.inputs),
        on_trial=on_trial,
        say=say,
        ray=on_ray,
        cores=search.threads,
    )


def _publish(
    project: Project,
    spec: TrainSpec,
    data: Prepared,
    run: Run,
    fitted: Fitted,
    say: Progress,
) -> tuple[ModelVersion, StoredEvaluation]:
    """Log the curves, time the model on held-out rows, register it pending, store its
    leaderboard and evaluation report, then make it ready in the transaction that finishes
    the run: a job killed on the way leaves no version that can be resolved or promoted
    (``shipyard gc`` removes its bundle)."""
    for key, values in fitted.curves.items():
        project.catalog.log_curve(run.id, key, list(enumerate(values, start=1)))
    latency = row_latency_ms(fitted.model, data.test_rows)
    if latency is not None:
        fitted.metrics["serving"] = {"predict_ms_per_row": latency}
    lineage = _lineage(project, spec, data, run, fitted)
    say("Registering the model")
    held_out, lineage["held_out"] = held_out_files(
        data.dataset_rows[data.split.test], data.version.ref
    )
    model_version = register_model(
        project,
        _model_name(spec, data),
        fitted.model,
        run_id=run.id,
        metrics=fitted.metrics,
        lineage=lineage,
        extra_files=held_out,
        pending=True,
    )
    crash_point("after_bundle")
    if fitted.leaderboard:
        project.catalog.put_report(
            model_version.ref,
            "leaderboard",
            {"metric": data.metric, "rows": to_json(fitted.leaderboard)},
            html_uri=None,
            actor=project.actor,
        )
    say("Writing the evaluation report")
    evaluation = write_evaluation(
        project,
        model_version,
        data.problem,
        test_rows=data.test_rows[data.report_options.columns],
        y=data.parts.y["test"],
        scores=fitted.test_scores,
        threshold=fitted.model.threshold,
        decision=fitted.model.decision,
        options=data.report_options,
        curves=fitted.curves,
        leaderboard=fitted.leaderboard,
        leaderboard_metric=data.metric,
        diagnostics=[*data.split.findings, *data.findings, *fitted.diagnostics],
        seed=spec.seed,
    )
    say("Writing the monitoring baseline")
    write_baseline(
        project,
        model_version,
        fitted.model,
        data.test_rows,
        evaluation.payload,
        spec.seed,
        spec.search.time_budget,
    )
    ready = publish_model(
        project,
        model_version,
        run_metrics=_flatten(fitted.metrics),
        run_outputs={
            "model": model_version.ref,
            "unlabelled_rows_dropped": data.unlabelled,
            "diagnostics": fitted.diagnostics,
            **({"search": to_json(fitted.summary)} if fitted.summary else {}),
        },
    )
    return ready, dataclasses.replace(evaluation, model_version=ready)


def _lineage(
    project: Project, spec: TrainSpec, data: Prepared, run: Run, fitted: Fitted
) -> dict[str, Any]:
    """Where the version came from and what training found: the dataset, the run, the
    split and its findings, the diagnostics, the decision, how it was tuned, the columns
    left out by default and the learning curve (what ``shipyard pitfalls MODEL`` reads)."""
    lineage = {
        "dataset": data.version.ref,
        "dataset_fingerprint": data.version.fingerprint,
        "run": run.id,
        "target": data.target,
        "split": data.split.summary(),
        "diagnostics": fitted.diagnostics,
        "decision": to_json(fitted.model.decision),
        "tuning": tuning(spec),
        "pitfalls": {
            "left_out": data.left_out,
            "kept": data.kept,
            "learning_curve": data.curve,
            "findings": data.findings,
            "pii": {"allowed": list(spec.allow_pii), "hashed": list(spec.hash_pii)},
        },
    }
    if fitted.summary:
        lineage["search"] = to_json(fitted.summary)
    # A feature-store model remembers which inputs come from which group (bundle's model.json)
    inputs = [c.name for c in fitted.model.encoder.columns_]
    refs = model_features(project, data.version.ref, inputs)
    if refs is not None:
        lineage[FEATURES_KEY] = refs
    return lineage


def _model_name(spec: TrainSpec, data: Prepared) -> str:
    return spec.model_name or data.version.name


def _join_ray(
    project: Project, address: str | None, run_id: str, budget: Budget, say: Progress
) -> RaySearch:
    """Connect to Ray (or start it here) and name the job's study after its run."""
    storage = study_storage(project.catalog_url)
    cluster = connect_ray(address or project.settings.ray_address, progress=say)
    try:
        _check_time_left(budget, "and starting Ray")
    except InvalidInput:
        cluster.close()
        raise
    return RaySearch(cluster, storage, f"shipyard-{run_id}")


def _check_time_left(budget: Budget, also: str = "") -> None:
    """Refuse to search when reading and encoding the data left too little of the budget."""
    left = budget.left() - budget.overhead()
    if left < max(2.0, 0.25 * budget.seconds):
        spent = budget.elapsed()
        raise InvalidInput(
            f"Reading, splitting and encoding the data{' ' + also if also else ''} took "
            f"{spent:.1f} s of the "
            f"{budget.seconds:g} s time budget, leaving too little to search and refit. "
            f"Give a time_budget of at least {max(4 * spent, 2 * budget.seconds):.0f} seconds."
        )


def _flatten(metrics: dict[str, dict[str, float]]) -> dict[str, float]:
    return {f"{part}.{k}": v for part, values in metrics.items() for k, v in values.items()}
