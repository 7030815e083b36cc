"""CLI: audit (list, verify, export)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from shipyard.cli._context import project_of
from shipyard.cli._output import JsonFlag, console, emit_json, err_console, table

audit_app = typer.Typer(
    help="The audit trail: who changed what, when, from where; hash-chained.",
    invoke_without_command=True,
    no_args_is_help=False,
)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")


@audit_app.callback()
def audit(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="How many events.")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """Show the audit trail (newest first); `verify` checks its hash chain, `export` copies it."""
    if ctx.invoked_subcommand is not None:
        return
    events = project_of(ctx).catalog.list_events(limit)
    if as_json:
        emit_json(events)
        return
    console.print(
        table(
            "Audit trail (newest first)",
            ["when (UTC)", "actor", "face", "address", "action", "object"],
            [
                (
                    e.at.strftime("%Y-%m-%d %H:%M:%S"),
                    e.actor,
                    e.face,
                    e.address or "",
                    e.action,
                    e.object_id,
                )
                for e in events
            ],
        )
    )


@audit_app.command("verify")
def verify(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Check the hash chain: find edited, deleted, reordered or cut-off events (exit 1)."""
    from shipyard.security import verify_audit

    report = verify_audit(project_of(ctx))
    if as_json:
        emit_json(
            {"ok": report.ok, "events": report.events, "head": report.head, "breaks": report.breaks}
        )
    elif report.ok:
        console.print(f"Audit chain intact: {report.events} events, head {report.head}.")
    else:
        err_console.print(
            f"[bold red]Audit chain broken[/] ({len(report.breaks)} break(s) in "
            f"{report.events} events):"
        )
        for b in report.breaks:
            where = f"event {b.event_id}" if b.event_id is not None else "the head"
            err_console.print(f"  at {where} (position {b.position}): {escape(b.reason)}")
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("export")
def export(
    ctx: typer.Context,
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write (default: standard output).")
    ] = None,
) -> None:
    """Write every audit event, oldest first, as JSON lines (with their hashes)."""
    from shipyard.security import export_audit

    count = export_audit(project_of(ctx), out)
    if out is not None:
        err_console.print(f"Wrote {count} audit events to {out}.")
