"""CLI: endpoints (create, update, show, list, delete, rollback)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shipyard.cli._context import project_of
from shipyard.cli._output import JsonFlag, console, emit_json, table

if TYPE_CHECKING:
    from shipyard.deploy import EndpointStatus, Lane
    from shipyard.entities import Endpoint

endpoints_app = typer.Typer(
    help="Endpoints: weighted variants, a shadow, capture and guarded roll-outs, served by "
    "`shipyard serve --endpoint NAME` without restarts.",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(help="The endpoint's name.")]
Env = Annotated[str, typer.Option("--env", help="The environment: dev, staging or prod.")]
Variants = Annotated[
    list[str] | None,
    typer.Option(
        "--variant",
        help="MODEL:VERSION=WEIGHT or MODEL@ALIAS=WEIGHT (followed as promotions move it); "
        "repeat it, the weights summing to 100. One variant alone needs no weight.",
    ),
]
Shadow = Annotated[
    str | None,
    typer.Option(
        help="A model scored on a copy of the requests, captured, never answered "
        "with: MODEL:VERSION, or MODEL:VERSION=PERCENT to mirror a share."
    ),
]
Capture = Annotated[
    str | None, typer.Option(help="Percentage of requests captured, like 20% (0: off).")
]
Sticky = Annotated[
    str | None,
    typer.Option(
        help="Request field whose value keeps a caller on one variant, like subscriber_id."
    ),
]
RollbackOn = Annotated[
    str | None,
    typer.Option(
        help="Limits that roll a canary back, like error_rate=0.01,p99_ms=50,psi=0.2 "
        "(and min_requests=N: judged after N canary requests, default 100)."
    ),
]


def register(app: typer.Typer) -> None:
    app.add_typer(endpoints_app, name="endpoints")


@endpoints_app.command("create")
def endpoints_create(
    ctx: typer.Context,
    name: Name,
    env: Env,
    variant: Variants = None,
    shadow: Shadow = None,
    capture: Capture = None,
    sticky_key: Sticky = None,
    rollback_on: RollbackOn = None,
    as_json: JsonFlag = False,
) -> None:
    """Create an endpoint in an environment."""
    from shipyard.deploy import create_endpoint, show_endpoint

    project = project_of(ctx)
    endpoint = create_endpoint(
        project,
        name,
        env=env,
        variants=variant or [],
        shadow=shadow,
        capture=capture or 0.0,
        sticky_key=sticky_key,
        rollback_on=rollback_on,
    )
    _print_change("Created", show_endpoint(project, endpoint.name, env=env), as_json)


@endpoints_app.command("update")
def endpoints_update(
    ctx: typer.Context,
    name: Name,
    env: Env,
    variant: Variants = None,
    shadow: Shadow = None,
    no_shadow: Annotated[bool, typer.Option("--no-shadow", help="Drop the shadow.")] = False,
    capture: Capture = None,
    sticky_key: Sticky = None,
    no_sticky_key: Annotated[
        bool, typer.Option("--no-sticky-key", help="Route every request at random.")
    ] = False,
    canary: Annotated[
        str | None,
        typer.Option(help="Send the new variants this share first, like 10%, for --bake."),
    ] = None,
    bake: Annotated[
        str | None, typer.Option(help="How long a canary bakes before it takes all (5m).")
    ] = None,
    linear: Annotated[
        str | None,
        typer.Option(help="Shift the traffic in steps, like 10%/1m: 10% more every minute."),
    ] = None,
    rollback_on: RollbackOn = None,
    as_json: JsonFlag = False,
) -> None:
    """Change an endpoint: the new configuration is served without a restart."""
    from shipyard.deploy import KEEP, show_endpoint, update_endpoint
    from shipyard.errors import InvalidInput

    if (shadow and no_shadow) or (sticky_key and no_sticky_key):
        raise InvalidInput(
            "Give --shadow or --no-shadow (--sticky-key or --no-sticky-key), not both."
        )
    project = project_of(ctx)
    endpoint = update_endpoint(
        project,
        name,
        env=env,
        variants=variant or None,
        shadow=None if no_shadow else (shadow or KEEP),
        capture=capture,
        sticky_key=None if no_sticky_key else (sticky_key or KEEP),
        rollback_on=rollback_on,
        canary=canary,
        bake=bake,
        linear=linear,
    )
    _print_change("Updated", show_endpoint(project, endpoint.name, env=env), as_json)


@endpoints_app.command("rollback")
def endpoints_rollback(ctx: typer.Context, name: Name, env: Env, as_json: JsonFlag = False) -> None:
    """Restore the configuration the endpoint had before its current one."""
    from shipyard.deploy import rollback_endpoint, show_endpoint

    project = project_of(ctx)
    endpoint = rollback_endpoint(project, name, env=env)
    _print_change("Rolled back", show_endpoint(project, endpoint.name, env=env), as_json)


@endpoints_app.command("show")
def endpoints_show(
    ctx: typer.Context,
    name: Name,
    env: Env,
    history: Annotated[int, typer.Option(min=0, help="How many past revisions to list.")] = 10,
    as_json: JsonFlag = False,
) -> None:
    """Show an endpoint: its variants and what they serve now, its roll-out, its history."""
    from shipyard.deploy import show_endpoint

    status = show_endpoint(project_of(ctx), name, env=env)
    if as_json:
        emit_json(status)
        return
    _print_status(status)
    rows = [
        (
            e.revision,
            e.action,
            _variants_text(e.config),
            e.updated_by,
            f"{e.updated_at:%Y-%m-%d %H:%M:%S}",
        )
        for e in reversed(status.history[-history:])
    ]
    if history > 0:
        console.print(table("History", ["rev", "action", "variants", "by", "at (UTC)"], rows))


@endpoints_app.command("list")
def endpoints_list(
    ctx: typer.Context,
    env: Annotated[str | None, typer.Option("--env", help="Only this environment.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List the endpoints (of every environment, or of one)."""
    from shipyard.deploy import list_endpoints

    found = list_endpoints(project_of(ctx), env=env)
    if as_json:
        emit_json(found)
        return
    rows = [
        (
            e.name,
            e.env,
            e.revision,
            _phase(e),
            _variants_text(e.config),
            f"{e.updated_at:%Y-%m-%d %H:%M}",
        )
        for e in found
    ]
    console.print(
        table("Endpoints", ["endpoint", "env", "rev", "phase", "variants", "updated (UTC)"], rows)
    )


@endpoints_app.command("delete")
def endpoints_delete(ctx: typer.Context, name: Name, env: Env, as_json: JsonFlag = False) -> None:
    """Delete an endpoint and its history (the audit trail keeps what it was)."""
    from shipyard.deploy import delete_endpoint

    gone = delete_endpoint(project_of(ctx), name, env=env)
    if as_json:
        emit_json({"deleted": gone})
        return
    console.print(f"Deleted endpoint {gone.ref} (it was at revision {gone.revision}).")


def _print_change(verb: str, status: EndpointStatus, as_json: bool) -> None:
    if as_json:
        emit_json(status.endpoint)
        return
    e = status.endpoint
    console.print(f"{verb} endpoint {e.ref}: revision {e.revision}.")
    _print_status(status)


def _print_status(status: EndpointStatus) -> None:
    e = status.endpoint
    config, state = e.config, e.state
    console.print(
        f"[bold]{e.ref}[/] revision {e.revision} ({e.action} by {e.updated_by})  {_phase(e)}"
    )
    lanes = [*status.lanes, *([status.shadow] if status.shadow else [])]
    console.print(
        table(None, ["variant", "arm", "serves", "traffic"], [_lane_row(lane) for lane in lanes])
    )
    sticky = config.get("sticky_key") or "none (random)"
    console.print(
        f"capture {config.get('capture', 0):g}%  sticky key {sticky}  rollback on "
        f"{_limits(config.get('rollback_on') or {})}"
    )
    if state.get("phase") == "baking":
        guard = config["guardrail"]
        if guard["kind"] == "canary":
            plan, wait = f"canary {guard['share']:g}% for {guard['bake_seconds']:g} s", "bake"
        else:
            plan, wait = (
                f"linear +{guard['step']:g}% every {guard['interval_seconds']:g} s",
                "interval",
            )
        since = datetime.fromisoformat(state["step_at"])
        due = since + timedelta(seconds=guard[f"{wait}_seconds"])
        console.print(
            f"rolling out revision {state['rollout']} ({plan}) against baseline revision "
            f"{state['baseline']['revision']}: {state['share']:g}% since {since:%H:%M:%S}, next "
            f"step due {due:%Y-%m-%d %H:%M:%S} UTC (a server of the endpoint moves it along)"
        )
    rolled = state.get("rolled_back")
    if rolled:
        console.print(
            f"[bold yellow]rolled back automatically[/] from revision "
            f"{rolled['from_revision']}: {rolled['reason']}"
        )


def _lane_row(lane: Lane) -> tuple[Any, ...]:
    serves = lane.version or f"nothing: {lane.problem}"
    if lane.version and lane.model != lane.version:
        serves = f"{lane.version} (follows {lane.model})"
    traffic = f"{lane.share:g}% mirrored" if lane.arm == "shadow" else f"{lane.share:g}%"
    return (lane.variant, lane.arm, serves, traffic)


def _phase(e: Endpoint) -> str:
    if e.state.get("phase") == "baking":
        return f"baking {e.state['share']:g}%"
    return "live"


def _variants_text(config: dict[str, Any]) -> str:
    text = ", ".join(f"{v['model']}={v['weight']}" for v in config.get("variants", []))
    shadow = config.get("shadow")
    return f"{text}; shadow {shadow['model']}" if shadow else text


def _limits(limits: dict[str, Any]) -> str:
    return ",".join(f"{k}={v:g}" for k, v in limits.items()) or "nothing"
