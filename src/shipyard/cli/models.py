"""CLI: models (list, show, report, promote)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from shipyard.cli._context import project_of
from shipyard.cli._output import JsonFlag, console, emit_json, fmt_metric, table
from shipyard.cli.train import metrics_table
from shipyard.outfile import check_output_path, write_output

models_app = typer.Typer(help="List, inspect and promote model versions.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")


_STATUS = {"ready": "ready", "pending": "pending (job running)", "abandoned": "pending (job died)"}


@models_app.command("list")
def models_list(
    ctx: typer.Context,
    show_all: Annotated[
        bool,
        typer.Option(
            "--all", help="Also list versions whose job is still running or died (unusable)."
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """List every model version with its aliases and headline metric."""
    from shipyard.registry import list_versions

    versions = list_versions(project_of(ctx), include_pending=show_all)
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
                *([_STATUS.get(v.status, v.status)] if show_all else []),
            )
        )
    columns = ["model", "aliases", "problem", "test", "trained on", "created (UTC)"]
    console.print(table("Models", [*columns, *(["status"] if show_all else [])], rows))


@models_app.command("show")
def models_show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME, NAME:VERSION or NAME@ALIAS.")],
    as_json: JsonFlag = False,
) -> None:
    """Show a model version: metrics, signature, aliases, lineage and resource plan."""
    from shipyard.cli.deploy import print_recommendation_summary
    from shipyard.deploy import load_recommendation
    from shipyard.registry import resolve_model

    project = project_of(ctx)
    v = resolve_model(project, ref)
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
    console.print(metrics_table(v.metrics))
    inputs = v.signature.get("inputs", [])
    console.print(
        table("Signature (inputs)", ["column", "type"], [(c["name"], c["type"]) for c in inputs])
    )
    refs = lineage.get("features")
    if refs:
        _print_feature_refs(refs)
    print_recommendation_summary(load_recommendation(project, v.ref))


def _print_feature_refs(refs: dict[str, Any]) -> None:
    """The feature-store refs of a model: what the server looks up by entity."""
    console.print(
        f"features  entity {', '.join(refs['entity'])}  time {refs['time']}  "
        f"training set {refs.get('training_set', '?')}"
    )
    rows = [
        (f"{g['group']}:{g['version']}", feature, column)
        for g in refs["groups"]
        for feature, column in g["columns"].items()
    ]
    console.print(table("Inputs from the feature store", ["group", "feature", "input"], rows))
    console.print(f"inputs from the request: {', '.join(refs['request_inputs']) or 'none'}")


@models_app.command("report")
def models_report(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME, NAME:VERSION or NAME@ALIAS.")],
    html: Annotated[Path | None, typer.Option(help="Write the HTML report to FILE.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Show a model version's evaluation on its test rows: metrics with intervals, top-k,
    slices, bias; the full report (curves, calibration, ...) is an HTML page."""
    from shipyard.evaluation import evaluation_html, load_evaluation
    from shipyard.evaluation.console import print_evaluation_summary

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


@models_app.command("baseline")
def models_baseline(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME, NAME:VERSION or NAME@ALIAS.")],
    create: Annotated[
        bool,
        typer.Option("--create", help="Make (or remake) it from the training data in its lineage."),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Show a model version's monitoring baseline (statistics, prediction distribution,
    constraints, test metrics, attribution, bias)."""
    from shipyard.monitor import create_baseline, load_baseline

    project = project_of(ctx)
    stored = create_baseline(project, ref) if create else load_baseline(project, ref)
    if as_json:
        emit_json(stored.payload)
        return
    p = stored.payload
    console.print(f"[bold]Baseline of {p['model']}[/] ({p['problem_type']}), from {p['dataset']}")
    pred = p["prediction"]
    q = pred.get("quantiles", {})
    console.print(
        f"prediction  {pred['rows']:,} reference rows; mean score {pred.get('mean') or 0:.4f}; "
        f"p50 {q.get('p50', 0):.4f}, p95 {q.get('p95', 0):.4f}"
    )
    console.print(
        f"constraints {len(p['constraints']['rules'])} rules on {len(p['inputs'])} inputs"
    )
    if p.get("metrics"):
        rows = [
            (k, fmt_metric(m.get("value"), k), _interval(m.get("ci95")))
            for k, m in p["metrics"].items()
        ]
        console.print(table("Test metrics", ["metric", "value", "95% interval"], rows))
    if p.get("attribution"):
        top = [f["feature"] for f in p["attribution"]["features"][:8]]
        console.print(f"attribution {', '.join(top)}")
    if p.get("bias"):
        console.print(f"bias        facet {p['bias']['facet']}")
    console.print(f"HTML report: {stored.location}")


def _interval(ci: list[float] | None) -> str:
    return f"[{ci[0]:.4f}, {ci[1]:.4f}]" if ci else "—"
