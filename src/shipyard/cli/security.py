"""CLI: audit (list, verify, export), tokens (create, list, revoke), datasets tag."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from shipyard.cli._context import either, project_of
from shipyard.cli._output import JsonFlag, console, emit_json, err_console, table
from shipyard.cli.data import datasets_app

if TYPE_CHECKING:
    from shipyard.entities import ApiToken

audit_app = typer.Typer(
    help="The audit trail: who changed what, when, from where; hash-chained.",
    invoke_without_command=True,
    no_args_is_help=False,
)


tokens_app = typer.Typer(
    help="API tokens: a role in one environment, shown once, stored as a hash.",
    no_args_is_help=True,
)


keys_app = typer.Typer(
    help="Encryption keys of the artifact store (SHIPYARD_ENCRYPTION_KEY).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
    app.add_typer(keys_app, name="keys")
    app.add_typer(tokens_app, name="tokens")
    datasets_app.command("tag")(datasets_tag)


@audit_app.callback()
def audit(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="How many events.")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """Show the audit trail (newest first); `verify` checks its hash chain, `export` copies it."""
    if ctx.invoked_subcommand is not None:
        return
    events = either(ctx, lambda c: c.list_events(limit), lambda p: p.catalog.list_events(limit))
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

    report = either(ctx, lambda c: c.verify_audit(), verify_audit)
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


@tokens_app.command("create")
def tokens_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="A name to list and revoke it by.")],
    role: Annotated[
        str,
        typer.Option(help="predict-only, viewer, data-scientist, deployer or admin."),
    ],
    env: Annotated[str, typer.Option(help="dev, staging, prod, or all.")] = "dev",
    expires: Annotated[str, typer.Option(help="Lifetime: 90m, 12h, 30d, 2w, or never.")] = "90d",
    as_json: JsonFlag = False,
) -> None:
    """Make a token and print it once: only its hash is stored."""
    from shipyard.security import create_token

    made = create_token(project_of(ctx), name, role=role, env=env, expires=expires)
    if as_json:
        emit_json({"token": made.token, **_token_row(made.record)})
        return
    console.print(made.token, soft_wrap=True)
    err_console.print(
        f"Token '{made.record.name}' ({made.record.role} in {made.record.env}, expires "
        f"{_expiry(made.record)}). Copy it now: it is not shown again."
    )


@tokens_app.command("list")
def tokens_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List tokens (never their secrets)."""
    from shipyard.security import list_tokens

    tokens = list_tokens(project_of(ctx))
    if as_json:
        emit_json([_token_row(t) for t in tokens])
        return
    console.print(
        table(
            "API tokens",
            ["name", "id", "role", "env", "expires (UTC)", "state"],
            [
                (t.name, t.id, t.role, t.env, _expiry(t), "revoked" if t.revoked_at else "active")
                for t in tokens
            ],
        )
    )


@tokens_app.command("revoke")
def tokens_revoke(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The token's name (or id).")],
) -> None:
    """Revoke a token: servers refuse it within SHIPYARD_AUTH_CACHE_SECONDS."""
    from shipyard.security import revoke_token

    record = revoke_token(project_of(ctx), name)
    console.print(f"Revoked token '{record.name}' ({record.id}).")


def _expiry(token: ApiToken) -> str:
    return token.expires_at.strftime("%Y-%m-%d %H:%M") if token.expires_at else "never"


def _token_row(token: ApiToken) -> dict[str, Any]:
    return {
        "name": token.name,
        "id": token.id,
        "role": token.role,
        "env": token.env,
        "created_by": token.created_by,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
    }


def datasets_tag(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Argument(help="The dataset's NAME.")],
    pii: Annotated[str, typer.Option("--pii", help="Columns, comma-separated.")],
    remove: Annotated[
        bool, typer.Option("--remove", help="Mark them as not PII (overrides the profile).")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Tag columns as personal data (or not, with --remove), for every version."""
    from shipyard.security.pii import tag_pii

    columns = [c.strip() for c in pii.split(",") if c.strip()]
    tagged = tag_pii(project_of(ctx), dataset, columns, remove=remove)
    if as_json:
        emit_json({"dataset": dataset, "pii": tagged})
        return
    shown = ", ".join(f"{c} ({k})" for c, k in tagged.items()) or "none"
    console.print(f"PII columns of {dataset}: {shown}")


@keys_app.command("rotate")
def keys_rotate(
    ctx: typer.Context,
    new_key_file: Annotated[
        Path,
        typer.Option(
            "--new-key-file",
            help="File whose first line is the new key (base64 of 32 bytes).",
        ),
    ],
    as_json: JsonFlag = False,
) -> None:
    """Re-encrypt every encrypted artifact under a new key, one atomic swap per file.
    Give readers both keys first (new one first); run it again to finish a stopped one."""
    from shipyard.security import rotate_encryption_key

    result = rotate_encryption_key(project_of(ctx), new_key_file)
    if as_json:
        emit_json(result.to_dict())
        return
    console.print(
        f"Re-encrypted {result.resealed} file(s) under key {result.new_key_id}; "
        f"{result.kept} left as they were (plaintext or under that key already). Now make the "
        "new key the only one in SHIPYARD_ENCRYPTION_KEY(_FILE) everywhere."
    )
