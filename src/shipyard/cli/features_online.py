"""CLI: the online half of ``shipyard features`` (materialize, push, consume, check-skew,
online)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shipyard.cli._context import project_of
from shipyard.cli._output import JsonFlag, console, emit_json, err_console, table


def register(features_app: typer.Typer) -> None:
    """Add the online commands to the ``features`` sub-app."""
    features_app.command("materialize")(features_materialize)
    features_app.command("push")(features_push)
    features_app.command("consume")(features_consume)
    features_app.command("check-skew")(features_check_skew)
    features_app.command("online")(features_online)


def features_materialize(
    ctx: typer.Context,
    group: Annotated[str | None, typer.Argument(help="The group (default: every group).")] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Rebuild only entities with events at or after this ISO time."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Load the online store from each group's source and pushed events, in chunks."""
    from rich.progress import Progress, TextColumn, TimeElapsedColumn

    from shipyard.features import materialize

    with Progress(
        TextColumn("{task.description}"), TimeElapsedColumn(), console=err_console, transient=True
    ) as bar:
        task = bar.add_task("materializing")

        def show(name: str, events: int) -> None:
            bar.update(task, description=f"{name}: {events:,} events written")

        reports = materialize(project_of(ctx), group, since, progress=show)
    if as_json:
        emit_json([r.to_dict() for r in reports])
        return
    rows = [(r.group, f"{r.events:,}", f"{r.entities:,}", f"{r.seconds:.2f}") for r in reports]
    console.print(table("Materialized", ["group", "events", "entities", "seconds"], rows))


def features_push(
    ctx: typer.Context,
    group: Annotated[str, typer.Argument(help="The group to push to.")],
    file: Annotated[Path, typer.Argument(help="A Parquet, CSV or JSON-lines file of events.")],
    as_json: JsonFlag = False,
) -> None:
    """Apply FILE's events online and append them to the group's offline log."""
    from shipyard.features import push, read_events

    report = push(project_of(ctx), group, read_events(file))
    if as_json:
        emit_json(report.to_dict())
        return
    console.print(
        f"{report.group}: {report.received:,} received, {report.applied:,} applied, "
        f"{report.late:,} late (logged offline, not applied online), {report.logged:,} logged"
    )


def features_consume(
    ctx: typer.Context,
    group: Annotated[str, typer.Argument(help="The group the events belong to.")],
    stream: Annotated[str, typer.Option(help="redis://[:pw@]host:port/DB/STREAM")],
    consumer_group: Annotated[str, typer.Option("--group", help="Consumer group.")] = "shipyard",
    consumer: Annotated[str | None, typer.Option(help="Consumer name (default: host-pid).")] = None,
    max_events: Annotated[int | None, typer.Option(help="Stop after N events.")] = None,
    idle_timeout: Annotated[
        float | None, typer.Option(help="Stop after this many seconds with no new event.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Apply a Redis Stream's events; acknowledges after each write, resumes after a crash."""
    from shipyard.features import consume

    report = consume(
        project_of(ctx),
        group,
        stream,
        consumer_group=consumer_group,
        consumer=consumer,
        max_events=max_events,
        idle_timeout=idle_timeout,
    )
    if as_json:
        emit_json(report.to_dict())
        return
    console.print(
        f"{report.group} from {report.stream}: {report.read:,} read ({report.recovered:,} "
        f"pending from before), {report.applied:,} applied, {report.late:,} late"
    )


def features_check_skew(
    ctx: typer.Context,
    group: Annotated[str, typer.Argument(help="The group to check.")],
    sample: Annotated[int, typer.Option(min=1, help="Entities to sample.")] = 1000,
    at: Annotated[str | None, typer.Option(help="Instant (default: newest event).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Compare online values with the offline engine; exit 1 when they differ."""
    from shipyard.features import check_skew

    report = check_skew(project_of(ctx), group, sample, at=at)
    if as_json:
        emit_json(report.to_dict())
    else:
        verdict = "no skew" if report.ok else f"SKEW: {report.mismatch_count} values differ"
        console.print(
            f"{report.group} at {report.at.isoformat()}: {report.entities} entities x "
            f"{report.features} features, {report.missing_online} missing online: {verdict}"
        )
        rows = [
            (m["entity"], m["feature"], str(m["online"]), str(m["offline"]))
            for m in report.mismatches[:20]
        ]
        if rows:
            console.print(table(None, ["entity", "feature", "online", "offline"], rows))
    if not report.ok:
        raise typer.Exit(1)


def features_online(
    ctx: typer.Context,
    group: Annotated[str, typer.Argument(help="The group (or GROUP:feature,...).")],
    entity: Annotated[
        list[str], typer.Option(help="Entity key value (repeat for each key column).")
    ],
    at: Annotated[str | None, typer.Option(help="Instant (default: now).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Print an entity's current online feature values."""
    from shipyard.features import online_values

    values, missing = online_values(project_of(ctx), group, entity, at)
    if as_json:
        emit_json({"values": values, "missing": missing})
        return
    if missing:
        err_console.print("The online store has no state for this entity: empty windows.")
    console.print(table(None, ["feature", "value"], [(k, str(v)) for k, v in values.items()]))
