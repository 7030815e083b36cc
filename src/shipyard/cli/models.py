"""CLI: models (list, show, report, baseline, export); approval and promotion are in
``promotion``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shipyard.cli._context import either, project_of, remote_of
from shipyard.cli._output import JsonFlag, console, emit_json, fmt_metric, table
from shipyard.cli.train import metrics_table
from shipyard.entities import ModelVersion, to_json
from shipyard.errors import InvalidInput
from shipyard.outfile import check_output_path, write_output

if TYPE_CHECKING:
    from shipyard.client import Client

models_app = typer.Typer(help="List, inspect and promote model versions.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")


_APPROVAL = {"PendingManualApproval": "Pending"}  # the full name is in --json and --status
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
    status: Annotated[
        str | None,
        typer.Option(
            "--status", help="Only this approval status: PendingManualApproval, Approved, Rejected."
        ),
    ] = None,
    env: Annotated[
        str | None,
        typer.Option("--env", help="List this environment's catalog (dev, staging, prod)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List every model version with its aliases, approval and headline metric."""
    from shipyard.registry import list_versions

    versions = either(
        ctx,
        lambda c: _remote_versions(c, show_all, status, env),
        lambda p: list_versions(p, include_pending=show_all, approval=status, environment=env),
    )
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
                _APPROVAL.get(v.approval, v.approval),
                v.problem_type,
                headline,
                v.lineage.get("dataset", ""),
                f"{v.created_at:%Y-%m-%d %H:%M}",
                *([_STATUS.get(v.status, v.status)] if show_all else []),
            )
        )
    columns = ["model", "aliases", "approval", "problem", "test", "trained on", "created (UTC)"]
    console.print(table("Models", [*columns, *(["status"] if show_all else [])], rows))


@models_app.command("show")
def models_show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME, NAME:VERSION or NAME@ALIAS.")],
    as_json: JsonFlag = False,
) -> None:
    """Show a model version: approval, gate results, metrics, signature, aliases, lineage and
    resource plan."""
    from shipyard.cli.deploy import print_recommendation_summary
    from shipyard.cli.promotion import print_approval, print_promotions
    from shipyard.registry import model_history

    history = either(ctx, lambda c: c.model_history(ref), lambda p: model_history(p, ref))
    v = history.version
    if as_json:
        emit_json({**to_json(v), "approvals": history.approvals, "promotions": history.promotions})
        return
    console.print(f"[bold]{v.ref}[/] ({v.problem_type})  aliases: {', '.join(v.aliases) or 'none'}")
    print_approval(v, history.approvals)
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
    print_promotions(history.promotions)
    if remote_of(ctx) is None:
        from shipyard.deploy import load_recommendation

        print_recommendation_summary(load_recommendation(project_of(ctx), v.ref))


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
    from shipyard.evaluation.console import print_evaluation_summary

    if html is not None:
        check_output_path(html, option="--html")
    client = remote_of(ctx)
    if client is not None:
        payload = client.load_evaluation(ref)
        page = client.evaluation_html(ref) if html is not None else None
        location = client.evaluation_url(ref)
    else:
        from shipyard.evaluation import evaluation_html, load_evaluation

        project = project_of(ctx)
        report = load_evaluation(project, ref)
        payload, location = report.payload, report.location
        page = evaluation_html(project, report) if html is not None else None
    if html is not None and page is not None:
        write_output(html, page, option="--html")
    if as_json:
        emit_json(payload)
        return
    print_evaluation_summary(payload, console)
    console.print(f"HTML report: {html or location}")


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
    client = remote_of(ctx)
    if client is not None:
        p = client.create_baseline(ref) if create else client.load_baseline(ref)
        location = "(on the server)"
    else:
        from shipyard.monitor import create_baseline, load_baseline

        project = project_of(ctx)
        stored = create_baseline(project, ref) if create else load_baseline(project, ref)
        p, location = stored.payload, stored.location
    if as_json:
        emit_json(p)
        return
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
    console.print(f"HTML report: {location}")


def _remote_versions(
    client: Client, show_all: bool, status: str | None, env: str | None
) -> list[ModelVersion]:
    if env is not None:
        raise InvalidInput(
            "models list --env reads an environment's own catalog, which only the server "
            "opens: drop --env, or run it on the server's machine."
        )
    versions = client.list_versions(include_pending=show_all)
    return [v for v in versions if status is None or v.approval == status]


def _interval(ci: list[float] | None) -> str:
    return f"[{ci[0]:.4f}, {ci[1]:.4f}]" if ci else "—"


@models_app.command("export")
def models_export(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME, NAME:VERSION or NAME@ALIAS.")],
    fmt: Annotated[str, typer.Option("--format", help="mlflow or onnx.")],
    out: Annotated[Path, typer.Option("--out", help="The folder to write (new or empty).")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace an earlier Shipyard export in --out.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Export a model version as an MLflow pyfunc folder or one ONNX graph, checked against
    Shipyard's own predictions before it is written."""
    from shipyard.deploy import export_model

    result = export_model(project_of(ctx), ref, fmt, out, force=force)
    if as_json:
        emit_json(result.to_json())
        return
    check = result.check
    labels = "" if "labels_differ" not in check else f"; {check['labels_differ']} label(s) differ"
    console.print(f"Exported {result.model} as {result.format} to {result.path}")
    console.print(
        f"checked on {check['rows']:,} rows: largest difference {check['max_error']:.2g} "
        f"({check['measure']}; tolerance {check['tolerance']:g}){labels}"
    )
    for note in result.notes:
        console.print(f"note: {note}")
