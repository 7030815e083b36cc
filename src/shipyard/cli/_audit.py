"""The CLI's audit of its own calls: every command that may change the project records one
``cli.call`` event once it ends, with the command, the outcome (``ok``, an error kind,
``usage``, ``exit N`` or ``interrupted``) and the host it ran on, failures included. It is
the CLI's counterpart of the REST API's ``api.call`` (``server/_middleware.py``); what the
command changed is audited besides, by the catalog, in the change's own transaction.

Commands are audited unless :data:`READ_ONLY` names them, so a command added later is
audited by default. A command run through a server (``--server``) is audited by the server.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from shipyard.errors import ShipyardError

if TYPE_CHECKING:
    from shipyard.entities import Actor
    from shipyard.project import Project

__all__ = ["READ_ONLY", "AuditedGroup", "cli_actor", "outcome_of"]

log = logging.getLogger("shipyard.cli")

READ_ONLY = frozenset(
    {
        "sql", "environments", "recommend", "pitfalls", "compare",
        "datasets list", "datasets show", "datasets verify", "constraints suggest",
        "features list", "features show", "features check-skew", "features online",
        "models list", "models show", "models report", "models baseline", "models history",
        "runs list", "runs show", "runs compare",
        "endpoints show", "endpoints list",
        "monitors list", "monitors show", "monitors history", "alerts list",
        "pipelines validate", "pipelines graph", "pipelines list", "pipelines runs",
        "pipelines show", "pipelines schedules",
        "audit verify", "audit export", "tokens list",
    }
)  # fmt: skip
"""Commands that only read the project (``constraints suggest`` writes a file of the
user's, not the project): not audited. Every other command is."""

_HELP = frozenset({"--help", "-h"})


def cli_actor(actor: Actor) -> Actor:
    """``actor`` as the CLI records it: its face ``cli`` and this host as its address."""
    return replace(actor, face="cli", address=socket.gethostname())


def outcome_of(error: BaseException | None) -> str:
    """A command's outcome as the audit trail words it."""
    if error is None:
        return "ok"
    if isinstance(error, ShipyardError):
        return error.kind
    if isinstance(error, typer.Exit | SystemExit):
        code = getattr(error, "exit_code", getattr(error, "code", 1))
        return "ok" if code in (0, None) else f"exit {code}"
    if isinstance(error, KeyboardInterrupt | typer.Abort):
        return "interrupted"
    if any(k.__name__ == "UsageError" for k in type(error).__mro__):  # click's, vendored
        return "usage"
    return type(error).__name__


class AuditedGroup(TyperGroup):
    """The root command group: runs the command, then records ``cli.call`` when the command
    may change the project (see :data:`READ_ONLY`)."""

    def invoke(self, ctx: Any) -> Any:
        command, asked_help = _command_of(self, ctx)
        audited = bool(command) and command not in READ_ONLY and not asked_help
        try:
            result = super().invoke(ctx)
        except BaseException as exc:
            if audited:
                _record(ctx, command, exc)
            raise
        if audited:
            _record(ctx, command, None)
        return result


def _command_of(group: TyperGroup, ctx: Any) -> tuple[str, bool]:
    """The command path a call names (``models promote``), and whether it asks for help;
    parsed without running anything. ``""`` when it names no command."""
    names: list[str] = []
    cmd: Any = group
    parent = ctx
    args = [*ctx._protected_args, *ctx.args]
    try:
        while isinstance(cmd, TyperGroup) and args:
            name, sub, args = cmd.resolve_command(parent, args)
            if sub is None or name is None:
                return "", False
            names.append(name)
            if isinstance(sub, TyperGroup):
                parent = sub.make_context(name, list(args), parent=parent, resilient_parsing=True)
                args = [*parent._protected_args, *parent.args]
            cmd = sub
    except Exception:
        return "", False
    if isinstance(cmd, TyperGroup):  # a group with no command: its help
        return "", True
    return " ".join(names), bool(_HELP & set(args))


def _record(ctx: Any, command: str, error: BaseException | None) -> None:
    """One ``cli.call`` event in the project the command ran on; never raises."""
    obj = ctx.obj if isinstance(ctx.obj, dict) else {}
    if obj.get("server"):
        return  # the server audited each call it received
    details: dict[str, Any] = {"command": command, "outcome": outcome_of(error)}
    if isinstance(error, ShipyardError):
        details["message"] = error.message[:500]
    opened = obj.get("project")
    project = opened if opened is not None else _open(obj.get("project_path"))
    if project is None:
        return  # no project here: nothing to record in
    try:
        project.catalog.record_event(
            "cli.call", "command", command, actor=cli_actor(project.actor), details=details
        )
    except Exception:
        log.warning("Could not audit `shipyard %s`", command, exc_info=True)
    finally:
        if opened is None:
            project.close()


def _open(path: object) -> Project | None:
    """The project a command that never opened one names, or None when there is none."""
    from shipyard.project import open_project

    try:
        return open_project(path if isinstance(path, Path) else None, face="cli")
    except ShipyardError:
        return None
