"""The training entry point: dataset version in, evaluated and registered model version out.

Without a time budget, one fit of one family (``family``); with ``time_budget``, an AutoML
search over ``families`` whose trials are runs of the model's experiment, ensembled and refit
on train + validation, all within the budget (the whole call, registration included). With
``backend="ray"`` the trials run as Ray tasks sharing one Optuna study.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shipyard.automl import (
    Budget,
    Clock,
    RaySearch,
    SearchProgress,
    check_families,
    choose_metric,
    study_storage,
)
from shipyard.catalog.refs import parse_dataset_ref
from shipyard.compute import check_backend, connect_ray, require_ray
from shipyard.entities import ModelVersion, Run, to_json
from shipyard.errors import InvalidInput
from shipyard.evaluation import StoredEvaluation, check_evaluation_options, write_evaluation
from shipyard.model import (
    CALIBRATIONS,
    FeatureEncoder,
    Problem,
    TabularModel,
    get_family,
    infer_problem,
)
from shipyard.project import Project
from shipyard.tracking import Heartbeat
from shipyard.train._fitting import (
    CatalogTrialLog,
    Options,
    Parts,
    auto_threads,
    fit_automl,
    fit_single,
)
from shipyard.train._split import require_columns, split_frame
from shipyard.train._threshold import check_decision

__all__ = ["TrainResult", "train"]

Progress = Callable[[str], None]


@dataclass
class TrainResult:
    """What a training job produced.

    ``leaderboard`` (AutoML only) lists the trials best first: family, params, validation
    score, fit seconds, predict milliseconds per row. ``diagnostics`` are the findings about
    the chosen model (see :mod:`shipyard.train._diagnostics`).
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


def train(
    project: Project,
    dataset: str,
    target: str,
    *,
    model_name: str | None = None,
    split: str = "stratified",
    time_column: str | None = None,
    group_column: str | None = None,
    split_column: str | None = None,
    exclude: Sequence[str] = (),
    family: str = "lightgbm",
    params: dict[str, Any] | None = None,
    positive: Any = None,
    problem_type: str | None = None,
    seed: int = 0,
    allow_leakage: bool = False,
    progress: Progress | None = None,
    time_budget: float | None = None,
    metric: str | None = None,
    families: Sequence[str] | None = None,
    ensemble: bool = True,
    max_trials: int | None = None,
    cost_fp: float | None = None,
    cost_fn: float | None = None,
    alert_rate: float | None = None,
    calibration: str = "auto",
    threads: int = 0,
    on_trial: Callable[[SearchProgress], None] | None = None,
    clock: Clock | None = None,
    slice_by: Sequence[str] = (),
    facet: str | None = None,
    facet_values: Sequence[Any] | None = None,
    facet_threshold: float | None = None,
    backend: str = "local",
    ray_address: str | None = None,
) -> TrainResult:
    """Split a dataset version, fit (or search), evaluate on validation and test, register.

    Args:
        split: random, stratified, time (``time_column``), group (``group_column``) or
            column: each row's part read from ``split_column`` (train, valid or test), for a
            test set fixed outside Shipyard; the final refit uses train + valid only.
        family: The family of a single fit (no ``time_budget``).
        params: Parameters of that single fit.
        time_budget: Seconds for the whole call; turns on the AutoML search.
        metric: What the search optimizes (see ``shipyard.automl.METRICS``); default
            roc_auc (pr_auc under 5% positives), log_loss, or rmse.
        families: Families the search may use (default: all of ``FAMILIES``).
        ensemble: Let the search pick a greedy ensemble when it beats the best model.
        max_trials: Stop the search after this many trials even with time left.
        cost_fp, cost_fn: Costs of a false alarm and a miss: the threshold minimizes their
            total on validation (binary only).
        alert_rate: Flag at most this share of rows (binary only).
        calibration: auto (isotonic or sigmoid when it lowers validation log loss), none,
            isotonic or sigmoid (binary only).
        threads: Threads per fit and prediction (0: one for small data, else all cores).
        on_trial: Called after every trial with a :class:`SearchProgress`.
        clock: Monotonic seconds for the budget (tests inject one).
        slice_by: Columns of the table (features or not) whose values or quantile bins the
            evaluation report shows metrics for.
        facet: Column whose groups the report measures post-training bias on (binary only),
            for ``facet_values`` (default: each value) or, numeric, ``facet > facet_threshold``.
        backend: Where the search's trials run: ``local`` (this process) or ``ray`` (Ray
            tasks sharing one Optuna study stored beside the catalog; needs time_budget).
        ray_address: The Ray cluster (default: the ``ray_address`` setting,
            ``SHIPYARD_RAY_ADDRESS``); unset, a Ray is started on this machine for the job.
            Starting or joining Ray counts against the time budget.

    Raises:
        NotFound: The dataset or a named column does not exist.
        InvalidInput: The target cannot be learned (one class), the split leaks (unless
            ``allow_leakage``), or an option is invalid (a budget <= 0 or too small, an
            unknown family, metric or backend, a metric that does not fit the problem).
        BackendUnavailable: ``backend="ray"`` and Ray is not installed (the message gives
            the install command) or its cluster cannot be reached.
    """
    budget = Budget(time_budget, clock or time.monotonic) if time_budget is not None else None
    started = budget.started if budget else time.monotonic()
    say = progress or (lambda _msg: None)
    if check_backend(backend) == "ray":
        if budget is None:
            raise InvalidInput(
                "backend='ray' runs the trials of an AutoML search on Ray; give time_budget "
                "(seconds) to run one, or use the local backend for a single fit."
            )
        require_ray()  # before reading any data: without Ray, say so at once
    if budget is None:
        estimator_family = get_family(family)
        if families is not None or max_trials is not None:
            raise InvalidInput(
                "'families' and 'max_trials' choose what an AutoML search tries; give "
                "time_budget (seconds) to run one, or use family= for a single fit."
            )
        search_families: list[str] = []
    else:
        search_families = check_families(families)
        if max_trials is not None and max_trials < 1:
            raise InvalidInput(
                f"The 'max_trials' parameter of train must be at least 1. Got {max_trials}."
            )
    decision_rule = check_decision(cost_fp, cost_fn, alert_rate)
    if calibration not in CALIBRATIONS:
        raise InvalidInput(
            f"The 'calibration' parameter of train must be one of {', '.join(CALIBRATIONS)}. "
            f"Got {calibration!r} instead."
        )
    ref = parse_dataset_ref(dataset)
    version = project.catalog.get_dataset_version(ref.name, ref.version)
    say(f"Reading {version.ref} ({version.num_rows:,} rows)")
    frame = project.lake.read_frame(version)
    require_columns([target, *exclude], list(frame.columns))
    labelled = frame[frame[target].notna()].reset_index(drop=True)
    unlabelled = len(frame) - len(labelled)
    problem = infer_problem(labelled[target], positive=positive, problem_type=problem_type)
    if problem.type != "binary" and decision_rule != "f1":
        raise InvalidInput(
            "cost_fp / cost_fn and alert_rate set the decision threshold of a binary model; "
            f"this target is a {problem.type} problem."
        )
    y = problem.encode(labelled[target])
    report_options = check_evaluation_options(
        labelled,
        problem,
        slice_by=slice_by,
        facet=facet,
        facet_values=facet_values,
        facet_threshold=facet_threshold,
    )

    say(f"Splitting ({split})")
    parts = split_frame(
        labelled,
        target,
        strategy=split,
        time_column=time_column,
        group_column=group_column,
        split_column=split_column,
        seed=seed,
    )
    chosen_metric = (
        choose_metric(problem.type, y[parts.train], metric) if budget is not None else None
    )
    if parts.severe and not allow_leakage:
        raise InvalidInput(
            "The split leaks: "
            + " ".join(f["message"] for f in parts.severe)
            + " Fix the data or the split, or pass --allow-leakage to train anyway "
            "(it is recorded on the run).",
            details={"findings": parts.findings},
        )
    excluded = [target, *exclude]
    if split == "time" and time_column:
        excluded.append(time_column)
    excluded.extend(c for c in (group_column, split_column) if c)
    encoder = FeatureEncoder(exclude=excluded).fit(labelled.iloc[parts.train])
    encoded = Parts(
        x={
            part: encoder.encode_frame(labelled.iloc[rows]).matrix
            for part, rows in (
                ("train", parts.train),
                ("valid", parts.valid),
                ("test", parts.test),
            )
        },
        y={"train": y[parts.train], "valid": y[parts.valid], "test": y[parts.test]},
        categorical=list(encoder.categorical_indices_),
        feature_names=list(encoder.feature_names_),
    )
    if budget is not None:
        budget.reserve(report_options.seconds(len(parts.test)))
        _check_time_left(budget)

    name = model_name or ref.name
    automl = budget is not None
    run_params: dict[str, Any] = {"seed": seed, "split": parts.summary()}
    if automl:
        run_params.update(
            family="automl",
            families=search_families,
            metric=chosen_metric,
            time_budget=time_budget,
            ensemble=ensemble,
        )
    else:
        run_params.update(family=family, **(params or {}))
    run_params["backend"] = backend
    if backend == "ray":
        run_params["ray_address"] = ray_address or project.settings.ray_address
    run_params["decision"] = {
        "rule": decision_rule,
        "cost_fp": cost_fp,
        "cost_fn": cost_fn,
        "alert_rate": alert_rate,
        "calibration": calibration,
    }
    inputs = {"dataset": version.ref, "fingerprint": version.fingerprint, "target": target}
    run = project.catalog.create_run(
        experiment=name,
        name=f"{'automl' if automl else family}-{int(time.time())}",
        params=run_params,
        tags={
            "allow_leakage": allow_leakage,
            "problem_type": problem.type,
            "kind": "automl" if automl else "single",
        },
        inputs=inputs,
        actor=project.actor,
    )
    options = Options(
        cost_fp, cost_fn, alert_rate, calibration, seed, auto_threads(threads, encoded.x["train"])
    )
    heartbeat = Heartbeat(project.catalog).start()
    try:
        if budget is not None:
            say(
                f"Searching {', '.join(search_families)} for {budget.left():.0f} s "
                f"(optimizing {chosen_metric})"
            )
            on_ray = (
                _join_ray(project, ray_address, run.id, budget, say) if backend == "ray" else None
            )
            fitted = fit_automl(
                encoder,
                problem,
                encoded,
                options,
                budget=budget,
                metric=str(chosen_metric),
                families=search_families,
                ensemble=ensemble,
                max_trials=max_trials,
                log=CatalogTrialLog(project.catalog, project.actor, name, run.id, inputs),
                on_trial=on_trial,
                say=say,
                ray=on_ray,
            )
        else:
            say(f"Fitting {family} on {len(parts.train):,} rows")
            fitted = fit_single(encoder, estimator_family, problem, encoded, params, options)
        for key, values in fitted.curves.items():
            project.catalog.log_curve(run.id, key, list(enumerate(values, start=1)))
        lineage = {
            "dataset": version.ref,
            "dataset_fingerprint": version.fingerprint,
            "run": run.id,
            "target": target,
            "split": parts.summary(),
            "diagnostics": fitted.diagnostics,
            "decision": to_json(fitted.model.decision),
        }
        if fitted.summary:
            lineage["search"] = to_json(fitted.summary)
        say("Registering the model")
        model_version = _register(project, name, fitted.model, run.id, fitted.metrics, lineage)
        if fitted.leaderboard:
            project.catalog.put_report(
                model_version.ref,
                "leaderboard",
                {"metric": chosen_metric, "rows": to_json(fitted.leaderboard)},
                html_uri=None,
                actor=project.actor,
            )
        say("Writing the evaluation report")
        evaluation = write_evaluation(
            project,
            model_version,
            problem,
            test_rows=labelled.iloc[parts.test][report_options.columns],
            y=encoded.y["test"],
            scores=fitted.test_scores,
            threshold=fitted.model.threshold,
            decision=fitted.model.decision,
            options=report_options,
            curves=fitted.curves,
            leaderboard=fitted.leaderboard,
            leaderboard_metric=chosen_metric,
            diagnostics=fitted.diagnostics,
            seed=seed,
        )
        run = project.catalog.finish_run(
            run.id,
            status="finished",
            metrics=_flatten(fitted.metrics),
            outputs={
                "model": model_version.ref,
                "unlabelled_rows_dropped": unlabelled,
                "diagnostics": fitted.diagnostics,
                **({"search": to_json(fitted.summary)} if fitted.summary else {}),
            },
            actor=project.actor,
        )
    except BaseException as exc:
        project.catalog.finish_run(
            run.id,
            status="failed",
            error="".join(traceback.format_exception_only(exc)).strip(),
            actor=project.actor,
        )
        raise
    finally:
        heartbeat.stop()
    return TrainResult(
        run,
        model_version,
        problem,
        fitted.metrics,
        parts.summary(),
        encoder.dropped_,
        leaderboard=fitted.leaderboard,
        diagnostics=fitted.diagnostics,
        search=fitted.summary,
        seconds=(budget.clock() if budget else time.monotonic()) - started,
        evaluation=evaluation,
    )


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


def _register(
    project: Project,
    name: str,
    model: TabularModel,
    run_id: str,
    metrics: dict[str, dict[str, float]],
    lineage: dict[str, Any],
) -> ModelVersion:
    from shipyard.registry import register_model

    return register_model(project, name, model, run_id=run_id, metrics=metrics, lineage=lineage)


def _flatten(metrics: dict[str, dict[str, float]]) -> dict[str, float]:
    return {f"{part}.{k}": v for part, values in metrics.items() for k, v in values.items()}
