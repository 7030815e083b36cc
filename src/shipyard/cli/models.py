"""CLI: train, models (list, show, report, promote)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from shipyard.cli._context import project_of
from shipyard.cli._output import JsonFlag, console, emit_json, fmt_metric, table
from shipyard.outfile import check_output_path, write_output

models_app = typer.Typer(help="List, inspect and promote model versions.", no_args_is_help=True)

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
    "rows",
)


def register(app: typer.Typer) -> None:
    app.command("train")(train)
    app.command("split")(split_command)
    app.add_typer(models_app, name="models")


# The split options that `train` and `split` share.
Strategy = Annotated[str, typer.Option(help="random, stratified, time, group or column.")]
TimeColumn = Annotated[str | None, typer.Option(help="Column that orders a time split.")]
GroupColumn = Annotated[
    str | None, typer.Option(help="Entity column, kept within one part by a group split.")
]
SplitColumn = Annotated[
    str | None,
    typer.Option(help="For a column split: each row's part (train, valid or test)."),
]


def train(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Argument(help="NAME or NAME@VERSION of the training table.")],
    target: Annotated[str, typer.Option("--target", "-t", help="The column to predict.")],
    model_name: Annotated[
        str | None,
        typer.Option("--model-name", "-m", help="Register as (default: the dataset name)."),
    ] = None,
    split: Strategy = "stratified",
    time_column: TimeColumn = None,
    group_column: GroupColumn = None,
    split_column: SplitColumn = None,
    exclude: Annotated[
        list[str] | None, typer.Option(help="Columns not to use as features (repeatable).")
    ] = None,
    positive: Annotated[
        str | None, typer.Option(help="The positive class of a binary target.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the split and the model.")] = 0,
    allow_leakage: Annotated[
        bool, typer.Option(help="Train even when the split leaks (recorded).")
    ] = False,
    time_budget: Annotated[
        float | None, typer.Option(help="AutoML: seconds for the whole job (search + refit).")
    ] = None,
    metric: Annotated[str | None, typer.Option(help="Metric to optimise (AutoML).")] = None,
    families: Annotated[
        str | None,
        typer.Option(
            help="AutoML families, comma-separated: lightgbm,xgboost,catboost,"
            "random_forest,extra_trees,linear."
        ),
    ] = None,
    cost_fp: Annotated[float | None, typer.Option(help="Cost of a false positive.")] = None,
    cost_fn: Annotated[float | None, typer.Option(help="Cost of a false negative.")] = None,
    alert_rate: Annotated[
        float | None, typer.Option(help="Flag at most this share of rows, e.g. 0.005.")
    ] = None,
    calibration: Annotated[str, typer.Option(help="auto, none, isotonic or sigmoid.")] = "auto",
    slice_by: Annotated[
        list[str] | None,
        typer.Option(help="Report test metrics per value of this column (repeatable)."),
    ] = None,
    facet: Annotated[
        str | None, typer.Option(help="Report post-training bias across this column's groups.")
    ] = None,
    facet_value: Annotated[
        list[str] | None, typer.Option(help="Facet value(s) to compare with the rest.")
    ] = None,
    facet_threshold: Annotated[
        float | None, typer.Option(help="For a numeric facet: the group is facet > T.")
    ] = None,
    backend: Annotated[
        str,
        typer.Option(help="AutoML trials run here (local) or as Ray tasks (ray)."),
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option(
            help="Ray cluster for --backend ray, e.g. auto or ray://HOST:10001 (default: "
            "SHIPYARD_RAY_ADDRESS; unset starts Ray on this machine)."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Split, fit (or AutoML with --time-budget), evaluate, and register a model version."""
    from shipyard.train import train as run_training

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
            model_name=model_name,
            split=split,
            time_column=time_column,
            group_column=group_column,
            split_column=split_column,
            exclude=exclude or (),
            positive=positive,
            seed=seed,
            allow_leakage=allow_leakage,
            time_budget=time_budget,
            metric=metric,
            families=[f.strip() for f in families.split(",")] if families else None,
            cost_fp=cost_fp,
            cost_fn=cost_fn,
            alert_rate=alert_rate,
            calibration=calibration,
            backend=backend,
            ray_address=ray_address,
            on_trial=on_trial,
            progress=lambda msg: status.update(msg + "..."),
            slice_by=slice_by or (),
            facet=facet,
            facet_values=facet_value or None,
            facet_threshold=facet_threshold,
        )
    if as_json:
        emit_json(
            {
                "model": result.model_version.ref,
                "run": result.run.id,
                "problem_type": result.problem.type,
                "metrics": result.metrics,
                "split": result.split,
                "dropped_columns": result.dropped_columns,
                "leaderboard": result.leaderboard,
                "diagnostics": result.diagnostics,
                "evaluation": result.evaluation.location if result.evaluation else None,
            }
        )
        return
    mv = result.model_version
    console.print(
        f"Registered [bold]{mv.ref}[/] ({result.problem.type}) from run {result.run.id[:12]}"
    )
    for column, why in result.dropped_columns.items():
        console.print(f"  not used as a feature: {column} ({why})")
    for finding in result.split["findings"]:
        console.print(f"  [yellow]split {finding['severity']}:[/] {finding['message']}")
    if result.leaderboard:
        from shipyard.train.console import leaderboard_table

        console.print(leaderboard_table(result.leaderboard))
    for finding in result.diagnostics:
        console.print(f"  [yellow]diagnostic {finding['check']}:[/] {finding['message']}")
    console.print(_metrics_table(result.metrics))
    if result.evaluation is not None:
        console.print(f"Evaluation report: {result.evaluation.location}")
        console.print(f"  shipyard models report {mv.ref}")
    console.print(f"Next: shipyard models promote {mv.ref} --to prod")


def split_command(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Argument(help="NAME or NAME@VERSION.")],
    target: Annotated[str, typer.Option("--target", "-t", help="The label column.")],
    strategy: Strategy = "stratified",
    time_column: TimeColumn = None,
    group_column: GroupColumn = None,
    split_column: SplitColumn = None,
    valid_size: Annotated[float, typer.Option(help="Share of rows for validation.")] = 0.15,
    test_size: Annotated[float, typer.Option(help="Share of rows for test.")] = 0.15,
    seed: Annotated[int, typer.Option(help="Seed of the split.")] = 0,
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
        rows = report["rows"]
        console.print(
            f"[bold]{version.ref}[/] split {strategy} (seed {seed}): "
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
    if any(f["severity"] == "error" for f in report["findings"]):
        raise typer.Exit(1)


def _metrics_table(metrics: dict[str, Any]) -> Any:
    parts = [p for p in ("valid", "test") if p in metrics]
    keys = [k for k in _SHOWN_METRICS if any(k in metrics[p] for p in parts)]
    return table(
        "Metrics",
        ["metric", *parts],
        [(k, *(fmt_metric(metrics[p].get(k), k) for p in parts)) for k in keys],
    )


@models_app.command("list")
def models_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List every model version with its aliases and headline metric."""
    versions = project_of(ctx).catalog.list_model_versions()
    if as_json:
        emit_json(versions)
        return
    rows = []
    for v in versions:
        test = v.metrics.get("test", {})
        headline = next(
            (f"{k}={test[k]:.4f}" for k in ("roc_auc", "rmse", "log_loss") if k in test), ""
        )
        rows.append(
            (
                v.ref,
                ", ".join(v.aliases),
                v.problem_type,
                headline,
                v.lineage.get("dataset", ""),
                f"{v.created_at:%Y-%m-%d %H:%M}",
            )
        )
    console.print(
        table(
            "Models", ["model", "aliases", "problem", "test", "trained on", "created (UTC)"], rows
        )
    )


@models_app.command("show")
def models_show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME, NAME:VERSION or NAME@ALIAS.")],
    as_json: JsonFlag = False,
) -> None:
    """Show a model version: metrics, signature, aliases and lineage."""
    from shipyard.registry import resolve_model

    v = resolve_model(project_of(ctx), ref)
    if as_json:
        emit_json(v)
        return
    console.print(f"[bold]{v.ref}[/] ({v.problem_type})  aliases: {', '.join(v.aliases) or 'none'}")
    console.print(f"bundle  {v.bundle_uri}")
    lineage = v.lineage
    console.print(
        f"lineage dataset {lineage.get('dataset')} -> run {str(lineage.get('run'))[:12]}"
        f" -> model {v.ref}"
    )
    console.print(_metrics_table(v.metrics))
    inputs = v.signature.get("inputs", [])
    console.print(
        table("Signature (inputs)", ["column", "type"], [(c["name"], c["type"]) for c in inputs])
    )


@models_app.command("report")
def models_report(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME, NAME:VERSION or NAME@ALIAS.")],
    html: Annotated[Path | None, typer.Option(help="Write the HTML report to FILE.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Show a model version's evaluation on its test rows: metrics with intervals, top-k,
    slices, bias; the full report (curves, calibration, ...) is an HTML page."""
    from shipyard.train import evaluation_html, load_evaluation, print_evaluation_summary

    if html is not None:
        check_output_path(html, option="--html")
    project = project_of(ctx)
    report = load_evaluation(project, ref)
    if html is not None:
        write_output(html, evaluation_html(project, report), option="--html")
    if as_json:
        emit_json(report.payload)
        return
    print_evaluation_summary(report.payload, console)
    console.print(f"HTML report: {html or report.location}")


@models_app.command("promote")
def models_promote(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME:VERSION (or NAME@ALIAS) to promote.")],
    to: Annotated[str, typer.Option("--to", help="dev, staging or prod.")],
    as_json: JsonFlag = False,
) -> None:
    """Point an environment's alias (NAME@dev|staging|prod) at a model version."""
    from shipyard.registry import promote

    v = promote(project_of(ctx), ref, to)
    if as_json:
        emit_json(v)
        return
    console.print(f"{v.name}@{to} -> {v.ref}")
