"""CLI: features (apply, list, show, training-set)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from shipyard.cli._context import either, project_of, remote_of
from shipyard.cli._output import JsonFlag, console, emit_json, table
from shipyard.errors import InvalidInput

features_app = typer.Typer(
    help="Feature store: declare groups, inspect them, build point-in-time training sets.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(features_app, name="features")


@features_app.command("apply")
def features_apply(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A YAML (or .py) definitions file.")],
    as_json: JsonFlag = False,
) -> None:
    """Validate FILE and register a new version of each changed entity and group."""
    from shipyard.features import apply

    result = apply(project_of(ctx), file)
    if as_json:
        emit_json(result)
        return
    for d in (*result.entities, *result.groups):
        state = "new version" if d.changed else "unchanged"
        console.print(f"{d.kind:<6} {d.ref:<30} {state}")


@features_app.command("list")
def features_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the feature groups (latest versions)."""
    from shipyard.features import list_groups

    groups = either(ctx, lambda c: c.list_groups(), list_groups)
    if as_json:
        emit_json([g.to_dict() | {"version": g.version} for g in groups])
        return
    rows = [(g.ref, g.entity, g.source, len(g.features), g.owner) for g in groups]
    console.print(table("Feature groups", ["group", "entity", "source", "features", "owner"], rows))


def _describe(feature: Any) -> tuple[str, str, str]:
    from shipyard.features import Aggregate, Column, format_duration

    if isinstance(feature, Column):
        return feature.name, "column", feature.column
    if isinstance(feature, Aggregate):
        window = format_duration(feature.window_seconds)
        what = f"{feature.function}({feature.column or '*'}) over {window}"
        return (
            feature.name,
            "aggregate",
            what + (f" where {feature.filter}" if feature.filter else ""),
        )
    return feature.name, "derived", feature.expression


@features_app.command("show")
def features_show(
    ctx: typer.Context,
    group: Annotated[str, typer.Argument(help="GROUP or GROUP:VERSION.")],
    as_json: JsonFlag = False,
) -> None:
    """Show a group: its definition, versions and source."""
    from shipyard.features import get_group

    name, _, version = group.partition(":")
    if version and not version.isdigit():
        raise InvalidInput(f"A group version is a number (GROUP:2). Got '{group}' instead.")
    number = int(version) if version else None
    client = remote_of(ctx)
    if client is not None:
        found = client.get_group(name, number)
        versions = client.list_feature_definitions("group", name)
    else:
        project = project_of(ctx)
        found = get_group(project, name, number)
        versions = project.catalog.list_feature_definitions("group", name)
    if as_json:
        emit_json({"group": found.to_dict(), "version": found.version, "versions": versions})
        return
    ttl = f", ttl {found.ttl}s" if found.ttl else ""
    console.print(f"[bold]{found.ref}[/]  entity {found.entity}, source {found.source}, "
                  f"event_time {found.event_time}{ttl}")  # fmt: skip
    console.print(
        table("Features", ["feature", "kind", "definition"], map(_describe, found.features))
    )
    rows = [(v.ref, f"{v.created_at:%Y-%m-%d %H:%M}", v.created_by, v.fingerprint[:12])
            for v in versions]  # fmt: skip
    console.print(table("Versions", ["version", "created (UTC)", "by", "fingerprint"], rows))


def _label_default(text: str | None) -> Any:
    if text is None:
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


@features_app.command("training-set")
def features_training_set(
    ctx: typer.Context,
    spine: Annotated[str, typer.Option("--spine", help="The spine dataset (NAME or NAME@N).")],
    entity: Annotated[str, typer.Option("--entity", help="Entity column(s), comma-separated.")],
    time: Annotated[str, typer.Option("--time", help="The spine's timestamp column.")],
    features: Annotated[
        list[str], typer.Option("--features", help="GROUP or GROUP:f1,f2 (repeatable).")
    ],
    name: Annotated[str, typer.Option("--name", help="The output dataset's name.")],
    labels: Annotated[str | None, typer.Option(help="A labels dataset.")] = None,
    label: Annotated[str | None, typer.Option(help="The label column of --labels.")] = None,
    label_join: Annotated[
        str | None, typer.Option(help="Columns joining labels, comma-separated.")
    ] = None,
    confirmed_at: Annotated[str, typer.Option(help="The labels' confirmation time.")] = (
        "confirmed_at"
    ),
    labels_known_by: Annotated[
        str | None, typer.Option(help="Use only labels confirmed by this time.")
    ] = None,
    label_default: Annotated[
        str | None, typer.Option(help="Label of rows whose label is not known (else dropped).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Build a point-in-time training set as a new dataset version NAME@N."""
    from shipyard.features import training_set

    with console.status("Computing point-in-time features..."):
        result = training_set(
            project_of(ctx),
            spine=spine,
            entity=[c.strip() for c in entity.split(",") if c.strip()],
            time=time,
            features=features,
            name=name,
            labels=labels,
            label=label,
            label_join=[c.strip() for c in label_join.split(",")] if label_join else None,
            confirmed_at=confirmed_at,
            labels_known_by=labels_known_by,
            label_default=_label_default(label_default),
        )
    if as_json:
        emit_json(result)
        return
    v = result.version
    state = "Unchanged: identical to" if result.unchanged else "Created"
    console.print(f"{state} {v.ref}: {v.num_rows:,} rows, {len(v.columns)} columns")
    for g in result.lineage["groups"]:
        console.print(f"  from {g['group']} ({g['source']}): {', '.join(g['features'])}")
    if labels is not None:
        fate = (
            f"given the default {label_default}" if label_default is not None
            else f"dropped ({result.rows_dropped:,} rows)"
        )  # fmt: skip
        console.print(
            f"  labels: {result.labels_used:,} known by the cut-off, {result.labels_unknown:,} "
            f"not known yet or missing: {fate}"
        )
