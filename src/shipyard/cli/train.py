"""CLI: train and split. The options build a :class:`~shipyard.train.TrainSpec`; the room
validates it, so the CLI, the SDK and the REST API accept and refuse the same things."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from shipyard.cli._context import project_of
from shipyard.cli._output import JsonFlag, console, emit_json, fmt_metric, table
from shipyard.errors import InvalidInput

__all__ = ["register"]

_SHOWN_METRICS = (
    "roc_auc",
    "pr_auc",
    "log_loss",
    "precision",
    "recall",
    "f1",
    "threshold",
    "accuracy",
    "macro_f1",
    "rmse",
    "mae",
    "r2",
    "precision_at_k",
    "anomaly_rate",
    "rows",
)


def register(app: typer.Typer) -> None:
    app.command("train")(train)
    app.command("split")(split_command)


def _opt(text: str, *names: str) -> Any:
    return typer.Option(*names, help=text)


# Options, declared once so that `train` and `split` share them and the command reads short.
Dataset = Annotated[str, typer.Argument(help="NAME or NAME@VERSION of the training table.")]
Target = Annotated[str, _opt("The column to predict.", "--target", "-t")]
OptionalTarget = Annotated[
    str | None,
    _opt("The column to predict (an anomaly model: a label to evaluate it).", "--target", "-t"),
]
ModelName = Annotated[
    str | None, _opt("Register as (default: the dataset name).", "--model-name", "-m")
]
Strategy = Annotated[str, _opt("random, stratified, time, group or column.")]
TimeColumn = Annotated[str | None, _opt("Column that orders a time split.")]
GroupColumn = Annotated[str | None, _opt("Entity column, kept within one part by a group split.")]
SplitColumn = Annotated[str | None, _opt("For a column split: each row's part (train/valid/test).")]
Exclude = Annotated[list[str] | None, _opt("Columns not to use as features (repeatable).")]
Positive = Annotated[str | None, _opt("The positive class of a binary target.")]
ProblemType = Annotated[
    str | None,
    _opt(
        "binary, multiclass or regression (default: from the target), or anomaly: an "
        "unsupervised detector, --target optional and only used to evaluate it.",
        "--problem-type",
        "--problem",
    ),
]
Contamination = Annotated[
    float | None,
    _opt("Anomaly: the share of training rows flagged (default: from the label, else 0.01)."),
]
AnomalyFeature = Annotated[
    str | None,
    _opt(
        "lof or isolation_forest: add that detector's score as the feature anomaly_score, "
        "fitted on the train part, computed inside the model from the raw row."
    ),
]
Seed = Annotated[int, _opt("Seed of the split and the model.")]
AllowLeakage = Annotated[
    bool, _opt("Train even when the split leaks (recorded).", "--allow-leakage")
]
AllowPii = Annotated[
    list[str] | None,
    _opt("Use this PII-tagged column as a feature as it is (repeatable).", "--allow-pii"),
]
KeepColumn = Annotated[
    list[str] | None,
    _opt(
        "Use this column as a feature although it is left out by default: a date, an "
        "identifier, or a column Shipyard wrote (repeatable).",
        "--keep-column",
    ),
]
HashPii = Annotated[
    list[str] | None,
    _opt(
        "Use this PII-tagged column through a keyed hash compiled into the model (repeatable).",
        "--hash-pii",
    ),
]
Family = Annotated[
    str,
    _opt(
        "Family of a single fit: lightgbm, xgboost, catboost, random_forest, extra_trees, "
        "linear; for regression also lightgbm_log, xgboost_log, catboost_log (on log(1 + y))."
    ),
]
Params = Annotated[str | None, _opt("Parameters of a single fit, as JSON: '{\"num_leaves\": 63}'.")]
TimeBudget = Annotated[float | None, _opt("AutoML: seconds for the whole job (search + refit).")]
Metric = Annotated[str | None, _opt("Metric to optimise (AutoML).")]
Families = Annotated[str | None, _opt("AutoML families, comma-separated (default: all).")]
MaxTrials = Annotated[int | None, _opt("AutoML: stop after this many trials.")]
NoEnsemble = Annotated[bool, _opt("AutoML: never pick an ensemble.", "--no-ensemble")]
Threads = Annotated[int, _opt("Threads per fit (0: one for small data, else all cores).")]
CostFp = Annotated[float | None, _opt("Cost of a false positive.")]
CostFn = Annotated[float | None, _opt("Cost of a false negative.")]
AlertRate = Annotated[float | None, _opt("Flag at most this share of rows, e.g. 0.005.")]
Calibration = Annotated[str, _opt("auto, none, isotonic or sigmoid.")]
TargetTransform = Annotated[
    str,
    _opt(
        "AutoML regression: y, and boosters on log(1 + y) beside them on a skewed, "
        "non-negative target (auto); y alone (none); or every model on log(1 + y) (log)."
    ),
]
SliceBy = Annotated[
    list[str] | None, _opt("Report test metrics per value of this column (repeatable).")
]
Facet = Annotated[str | None, _opt("Report post-training bias across this column's groups.")]
FacetValue = Annotated[list[str] | None, _opt("Facet value(s) to compare with the rest.")]
FacetThreshold = Annotated[float | None, _opt("For a numeric facet: the group is facet > T.")]
Backend = Annotated[str, _opt("AutoML trials run here (local) or as Ray tasks (ray).")]
RayAddress = Annotated[
    str | None,
    _opt(
        "Ray cluster for --backend ray, e.g. auto or ray://HOST:10001 (default: "
        "SHIPYARD_RAY_ADDRESS; unset starts Ray on this machine)."
    ),
]


def train(
    ctx: typer.Context,
    dataset: Dataset,
    target: OptionalTarget = None,
    model_name: ModelName = None,
    split: Strategy = "stratified",
    time_column: TimeColumn = None,
    group_column: GroupColumn = None,
    split_column: SplitColumn = None,
    exclude: Exclude = None,
    positive: Positive = None,
    problem_type: ProblemType = None,
    contamination: Contamination = None,
    anomaly_feature: AnomalyFeature = None,
    seed: Seed = 0,
    allow_leakage: AllowLeakage = False,
    allow_pii: AllowPii = None,
    hash_pii: HashPii = None,
    keep_column: KeepColumn = None,
    family: Family = "lightgbm",
    params: Params = None,
    time_budget: TimeBudget = None,
    metric: Metric = None,
    families: Families = None,
    max_trials: MaxTrials = None,
    no_ensemble: NoEnsemble = False,
    target_transform: TargetTransform = "auto",
    threads: Threads = 0,
    cost_fp: CostFp = None,
    cost_fn: CostFn = None,
    alert_rate: AlertRate = None,
    calibration: Calibration = "auto",
    slice_by: SliceBy = None,
    facet: Facet = None,
    facet_value: FacetValue = None,
    facet_threshold: FacetThreshold = None,
    backend: Backend = "local",
    ray_address: RayAddress = None,
    as_json: JsonFlag = False,
) -> None:
    """Split, fit (or AutoML with --time-budget), evaluate, and register a model version."""
    # First, while locals() holds only the parameters: every flag but the ones handled here.
    flags = {k: v for k, v in locals().items() if k not in ("ctx", "dataset", "target", "as_json")}
    from shipyard.train import TrainSpec
    from shipyard.train import train as run_training

    spec = TrainSpec.of(**_options(flags))
    project = project_of(ctx)
    with console.status("Training...") as status:

        def on_trial(p: Any) -> None:
            best = "-" if p.best_score is None else f"{p.best_score:.4f} ({p.best_family})"
            status.update(
                f"AutoML: {p.trials_done} trials ({p.trials_pruned} pruned), best {p.metric} "
                f"{best}, {p.seconds_left:.0f} s left..."
            )

        result = run_training(
            project,
            dataset,
            target,
            spec,
            on_trial=on_trial,
            progress=lambda msg: status.update(msg + "..."),
        )
    if as_json:
        emit_json(_result_json(result))
        return
    _print_result(result)


def _result_json(result: Any) -> dict[str, Any]:
    return {
        "model": result.model_version.ref,
        "run": result.run.id,
        "problem_type": result.problem.type,
        "metrics": result.metrics,
        "split": result.split,
        "dropped_columns": result.dropped_columns,
        "leaderboard": result.leaderboard,
        "diagnostics": result.diagnostics,
        "findings": result.findings,
        "search": result.search,
        "evaluation": result.evaluation.location if result.evaluation else None,
    }


def _options(flags: dict[str, Any]) -> dict[str, Any]:
    """The command's flags as :meth:`TrainSpec.of` options."""
    families = flags.pop("families")
    facet_value = flags.pop("facet_value")
    no_ensemble = flags.pop("no_ensemble")
    keep = flags.pop("keep_column")
    return {
        **flags,
        "exclude": flags["exclude"] or (),
        "allow_pii": flags.get("allow_pii") or (),
        "hash_pii": flags.get("hash_pii") or (),
        "keep_columns": keep or (),
        "slice_by": flags["slice_by"] or (),
        "params": _json_params(flags["params"]),
        "families": [f.strip() for f in families.split(",")] if families else None,
        "ensemble": not no_ensemble,
        "facet_values": facet_value or None,
    }


def _json_params(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(
            f"--params must be a JSON object, e.g. '{{\"num_leaves\": 63}}'. Got {text!r} ({exc})."
        ) from None
    if not isinstance(value, dict):
        raise InvalidInput(f"--params must be a JSON object of parameters. Got {text!r}.")
    return value


def _print_result(result: Any) -> None:
    mv = result.model_version
    console.print(
        f"Registered [bold]{mv.ref}[/] ({result.problem.type}) from run {result.run.id[:12]}"
    )
    for column, why in result.dropped_columns.items():
        console.print(f"  not used as a feature: {column} ({why})")
    for finding in result.split["findings"]:
        console.print(f"  [yellow]split {finding['severity']}:[/] {finding['message']}")
    if result.leaderboard:
        from shipyard.evaluation.console import leaderboard_table, search_notes

        console.print(leaderboard_table(result.leaderboard))
        for line in search_notes(result.search):
            console.print(line)
    for finding in result.diagnostics:
        console.print(f"  [yellow]diagnostic {finding['check']}:[/] {finding['message']}")
    for finding in result.findings:
        colour = "yellow" if finding["severity"] == "warning" else "cyan"
        console.print(f"  [{colour}]{finding['check'].replace('_', ' ')}:[/] {finding['message']}")
    console.print(metrics_table(result.metrics))
    latency = result.metrics.get("serving", {}).get("predict_ms_per_row")
    if latency is not None:
        console.print(f"Single-row predict: {latency:.2f} ms (one JSON row, one thread)")
    if result.evaluation is not None:
        console.print(f"Evaluation report: {result.evaluation.location}")
        console.print(f"  shipyard models report {mv.ref}")
    console.print(f"Next: shipyard models promote {mv.ref} --to prod")


def metrics_table(metrics: dict[str, Any]) -> Any:
    """Validation and test metrics side by side."""
    parts = [p for p in ("valid", "test") if p in metrics]
    keys = [k for k in _SHOWN_METRICS if any(k in metrics[p] for p in parts)]
    return table(
        "Metrics",
        ["metric", *parts],
        [(k, *(fmt_metric(metrics[p].get(k), k) for p in parts)) for k in keys],
    )


def split_command(
    ctx: typer.Context,
    dataset: Dataset,
    target: Annotated[str, _opt("The label column.", "--target", "-t")],
    strategy: Strategy = "stratified",
    time_column: TimeColumn = None,
    group_column: GroupColumn = None,
    split_column: SplitColumn = None,
    valid_size: Annotated[float, _opt("Share of rows for validation.")] = 0.15,
    test_size: Annotated[float, _opt("Share of rows for test.")] = 0.15,
    seed: Annotated[int, _opt("Seed of the split.")] = 0,
    as_json: JsonFlag = False,
) -> None:
    """Split train / validation / test and report leakage; exit 1 on a severe finding."""
    from shipyard.train import split_dataset

    project = project_of(ctx)
    version, report = split_dataset(
        project,
        dataset,
        target,
        strategy=strategy,
        time_column=time_column,
        group_column=group_column,
        split_column=split_column,
        valid_size=valid_size,
        test_size=test_size,
        seed=seed,
    )
    if as_json:
        emit_json(report)
    else:
        _print_split(version.ref, strategy, seed, report)
    if any(f["severity"] == "error" for f in report["findings"]):
        raise typer.Exit(1)


def _print_split(ref: str, strategy: str, seed: int, report: dict[str, Any]) -> None:
    rows = report["rows"]
    console.print(
        f"[bold]{ref}[/] split {strategy} (seed {seed}): "
        f"train {rows['train']:,} / valid {rows['valid']:,} / test {rows['test']:,}"
    )
    balance = report.get("target_mean", {})
    if balance:
        console.print(
            "target mean per part: "
            + ", ".join(f"{part} {value:.4f}" for part, value in balance.items())
        )
    for finding in report["findings"]:
        colour = "red" if finding["severity"] == "error" else "yellow"
        console.print(f"  [{colour}]{finding['severity']}[/] {finding['message']}")
    if not report["findings"]:
        console.print("  no leakage found")
