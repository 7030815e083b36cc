"""CLI: models approve, reject, history, promote; and environments (their locations and
gates)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import typer

from shipyard.cli._context import either, project_of
from shipyard.cli._output import JsonFlag, console, emit_json, err_console, table
from shipyard.entities import ApprovalChange, GateResult, ModelVersion, PromotionRecord

Ref = Annotated[str, typer.Argument(help="NAME:VERSION (or NAME, NAME@ALIAS).")]
Comment = Annotated[
    str, typer.Option("--comment", "-m", help="Why: kept in the version's approval history.")
]


def register(models_app: typer.Typer, app: typer.Typer) -> None:
    models_app.command("approve")(models_approve)
    models_app.command("reject")(models_reject)
    models_app.command("history")(models_history)
    models_app.command("promote")(models_promote)
    app.command("environments")(environments)


def models_approve(
    ctx: typer.Context, ref: Ref, comment: Comment, as_json: JsonFlag = False
) -> None:
    """Approve a model version (PendingManualApproval or Rejected -> Approved)."""
    from shipyard.registry import approve_model

    change = either(
        ctx,
        lambda c: c.approve_model(ref, comment=comment),
        lambda p: approve_model(p, ref, comment=comment),
    )
    _print_change(change, as_json)


def models_reject(
    ctx: typer.Context, ref: Ref, comment: Comment, as_json: JsonFlag = False
) -> None:
    """Reject a model version: it is not promoted anywhere until approved again."""
    from shipyard.registry import reject_model

    change = either(
        ctx,
        lambda c: c.reject_model(ref, comment=comment),
        lambda p: reject_model(p, ref, comment=comment),
    )
    _print_change(change, as_json)


def _print_change(change: ApprovalChange, as_json: bool) -> None:
    if as_json:
        emit_json(change)
        return
    console.print(
        f"{change.ref}: {change.previous} -> [bold]{change.status}[/] by {change.changed_by}"
    )


def models_history(ctx: typer.Context, ref: Ref, as_json: JsonFlag = False) -> None:
    """A model version's approval changes and promotions, with each promotion's gates."""
    from shipyard.registry import model_history

    history = either(ctx, lambda c: c.model_history(ref), lambda p: model_history(p, ref))
    if as_json:
        emit_json({"approvals": history.approvals, "promotions": history.promotions})
        return
    rows = [
        (f"{c.changed_at:%Y-%m-%d %H:%M}", c.previous, c.status, c.changed_by, c.comment)
        for c in history.approvals
    ]
    console.print(
        table(
            f"Approval of {history.version.ref} (now {history.version.approval})",
            ["when (UTC)", "from", "to", "by", "comment"],
            rows,
        )
    )
    print_promotions(history.promotions, latest_only=False)


def models_promote(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME:VERSION (or NAME@ALIAS) to promote.")],
    to: Annotated[str, typer.Option("--to", help="dev, staging or prod.")],
    force: Annotated[
        bool, typer.Option("--force", help="Promote although a gate failed (needs --reason).")
    ] = False,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why the override: kept in the audit trail.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Run the environment's gates (shipyard.yaml) and point NAME@ENV at the version; exit 1
    when a gate fails, unless --force --reason "..." overrides it (audited)."""
    from shipyard.registry import PromotionRefused, promote

    try:
        result = either(
            ctx,
            lambda c: c.promote(ref, to, force=force, reason=reason),
            lambda p: promote(p, ref, to, force=force, reason=reason),
        )
    except PromotionRefused as exc:
        if as_json:
            emit_json({"promoted": False, "environment": exc.environment, "gates": exc.gates})
        else:
            print_gates(exc.gates, f"Gates for {to}")
        raise
    if as_json:
        emit_json(result)
        return
    print_gates(result.gates, f"Gates for {to}")
    v = result.version
    before = f" (was {v.name}:{result.previous})" if result.previous else ""
    copied = f"; copied into {to}'s own catalog and store" if result.copied else ""
    console.print(f"{v.name}@{to} -> {v.ref}{before}{copied}")
    if result.outcome == "forced":
        failed = ", ".join(g.gate for g in result.failed)
        err_console.print(f"[bold yellow]Forced[/] past failed gate(s) {failed}: {result.reason}")


def print_gates(gates: Sequence[GateResult], title: str) -> None:
    if not gates:
        console.print(f"{title}; no gates")
        return
    rows = [(g.gate, "pass" if g.passed else "FAIL", g.summary) for g in gates]
    console.print(table(title, ["gate", "result", "evidence"], rows))


def print_approval(version: ModelVersion, changes: Sequence[ApprovalChange]) -> None:
    last = changes[-1] if changes else None
    by = f" by {last.changed_by} {last.changed_at:%Y-%m-%d %H:%M}: {last.comment}" if last else ""
    console.print(f"approval {version.approval}{by}")


def print_promotions(records: Sequence[PromotionRecord], *, latest_only: bool = True) -> None:
    """Each environment's latest promotion of the version (or every one) with its gates."""
    if latest_only:
        records = list({r.environment: r for r in records}.values())
    for r in records:
        why = f"; reason: {r.reason}" if r.reason else ""
        title = (
            f"Promotion to {r.environment}: {r.outcome} {r.created_at:%Y-%m-%d %H:%M} "
            f"by {r.created_by}{why}"
        )
        print_gates(r.gates, title)


def environments(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Each environment's catalog, artifact store, online store and promotion gates, from
    shipyard.yaml (validated) and the defaults."""
    from shipyard.environments import describe_environments

    described = describe_environments(project_of(ctx))
    if as_json:
        emit_json(described)
        return
    for e in described:
        own = "its own stores" if e["own_locations"] else "the project's stores"
        console.print(f"[bold]{e['name']}[/] ({own})")
        for key in ("catalog_url", "artifacts_url", "online_url"):
            console.print(f"  {key.removesuffix('_url'):<10}{e[key]}", soft_wrap=True)
        console.print(f"  {'gates':<10}{', '.join(e['gates']) or 'none'}")
