"""CLI: monitors (create, run, list, show, history) and alerts (list, ack)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer

from shipyard.cli._context import either, project_of, remote_of
from shipyard.cli._output import JsonFlag, console, emit_json, err_console, table
from shipyard.errors import InvalidInput

monitors_app = typer.Typer(
    help="Watch a model in production: drift, quality, bias, alerts.", no_args_is_help=True
)
alerts_app = typer.Typer(
    help="List and acknowledge the alerts monitors raised.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(monitors_app, name="monitors")
    app.add_typer(alerts_app, name="alerts")


def _when(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"{option} must be an ISO 8601 time with a zone, like 2026-01-05T10:00Z. "
            f"Got {text!r} instead."
        ) from None


@monitors_app.command("create")
def monitors_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The monitor's name.")],
    model: Annotated[str, typer.Option("--model", help="fraud@prod, fraud:3 or fraud.")],
    kinds: Annotated[
        str,
        typer.Option(
            "--kinds", help="Comma-separated: data-quality,drift,model-quality,bias,attribution."
        ),
    ] = "data-quality,drift",
    schedule: Annotated[str | None, typer.Option(help="Cron expression, e.g. '0 * * * *'.")] = None,
    window: Annotated[str, typer.Option(help="Window length: 30m, 1h, 1d.")] = "1h",
    labels: Annotated[str | None, typer.Option(help="Dataset of ground-truth labels.")] = None,
    label: Annotated[str | None, typer.Option(help="The label column of --labels.")] = None,
    label_key: Annotated[
        str,
        typer.Option(
            "--label-key", help="request_id, or ENTITY,TIME to join labels to captured rows."
        ),
    ] = "request_id",
    webhook: Annotated[str | None, typer.Option(help="URL that receives alerts (POST).")] = None,
    webhook_secret_env: Annotated[
        str | None,
        typer.Option("--webhook-secret-env", help="Environment variable holding the HMAC secret."),
    ] = None,
    on_violation: Annotated[
        str | None,
        typer.Option(
            "--on-violation",
            help="Command to run on violations (alerts in $SHIPYARD_ALERT), or pipeline:NAME "
            "to run that pipeline with the alerts as its 'alert' parameter.",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a monitor of a model version against its baseline."""
    from shipyard.monitor import create_monitor

    monitor = create_monitor(
        project_of(ctx),
        name,
        model=model,
        kinds=kinds,
        schedule=schedule,
        window=window,
        labels=labels,
        label=label,
        label_key=label_key,
        webhook=webhook,
        webhook_secret_env=webhook_secret_env,
        on_violation=on_violation,
    )
    if as_json:
        emit_json(monitor)
        return
    console.print(
        f"Created monitor [bold]{monitor.name}[/] of {monitor.model}: "
        f"{', '.join(monitor.kinds)} every {monitor.window_seconds // 60} min."
    )
    if monitor.schedule:
        console.print(f"Cron line: {monitor.schedule} shipyard monitors run {monitor.name}")


@monitors_app.command("run")
def monitors_run(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The monitor.")],
    since: Annotated[str | None, typer.Option(help="Start (ISO 8601, with zone).")] = None,
    until: Annotated[str | None, typer.Option(help="End (ISO 8601, with zone).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Run windows run before again.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Check every complete window not run yet; exit 1 when a violation was found."""
    from shipyard.monitor import run_monitor

    start, end = _when(since, "--since"), _when(until, "--until")
    client = remote_of(ctx)
    if client is not None:
        result = client.run_monitor(name, since=start, until=end, force=force)
    else:
        result = run_monitor(
            project_of(ctx),
            name,
            since=start,
            until=end,
            force=force,
            progress=None if as_json else lambda m: err_console.print(m),
        )
    if as_json:
        emit_json(
            {
                "monitor": name,
                "model": result.model,
                "violations": result.violations,
                "windows": [_window_json(w) for w in result.windows],
            }
        )
    else:
        _print_result(result)
    if result.violations:
        raise typer.Exit(1)


def _window_json(w: Any) -> dict[str, Any]:
    return {
        "start": w.start,
        "end": w.end,
        "skipped": w.skipped,
        "refreshed": w.refreshed,
        "status": w.run.status if w.run else None,
        "html": w.run.html_uri if w.run else None,
        "alerts": list(w.alerts),
    }


def _print_result(result: Any) -> None:
    if not result.windows:
        console.print(f"Monitor {result.monitor.name}: no complete window to check yet.")
    for w in result.windows:
        span = f"{w.start:%Y-%m-%d %H:%M}..{w.end:%H:%M}"
        if w.skipped:
            console.print(f"{span}  skipped: {w.skipped}")
            continue
        again = "  (checked again: labels arrived)" if w.refreshed else ""
        console.print(f"{span}  {w.run.status}  {w.run.report['summary']}{again}")
        for s in w.run.report.get("sections", []):
            console.print(f"  {s['kind']:<14} {s['status']:<10} {s['summary']}", soft_wrap=True)
        for a in w.alerts:
            what = a.evidence.get("column") or a.evidence.get("metric") or ""
            console.print(f"  [bold red]ALERT {a.id}[/] {a.severity} {a.violation} {what}")
        hook = w.alerts[0].notified.get("webhook", {}) if w.alerts else {}
        if hook.get("status") == "failed":
            console.print(
                f"  webhook failed after {hook['attempts']} attempt(s): {hook.get('error')} "
                "(recorded on the alerts)"
            )
        console.print(f"  report: {_local(w.run.html_uri)}")


def _local(uri: str | None) -> str:
    return uri[len("file://") :] if uri and uri.startswith("file://") else str(uri)


@monitors_app.command("list")
def monitors_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List monitors with their latest window and open alerts."""
    from shipyard.monitor import list_monitors

    statuses = either(ctx, lambda c: c.list_monitors(), list_monitors)
    if as_json:
        emit_json(statuses)
        return
    rows = [
        (
            s.monitor.name,
            s.monitor.model,
            ",".join(s.monitor.kinds),
            s.monitor.schedule or "",
            f"{s.last_run.window_end:%Y-%m-%d %H:%M}" if s.last_run else "",
            s.last_run.status if s.last_run else "",
            s.open_alerts,
        )
        for s in statuses
    ]
    console.print(
        table(
            "Monitors",
            ["monitor", "model", "kinds", "schedule", "checked to", "status", "open alerts"],
            rows,
        )
    )


@monitors_app.command("show")
def monitors_show(ctx: typer.Context, name: str, as_json: JsonFlag = False) -> None:
    """Show a monitor's settings, latest run and next scheduled time."""
    from shipyard.monitor import show_monitor

    s = either(ctx, lambda c: c.show_monitor(name), lambda p: show_monitor(p, name))
    if as_json:
        emit_json(s)
        return
    m = s.monitor
    console.print(f"[bold]{m.name}[/] watches {m.model}: {', '.join(m.kinds)}")
    console.print(
        f"window {m.window_seconds // 60} min; schedule {m.schedule or 'none'}"
        + (f" (next {s.next_run:%Y-%m-%d %H:%M} UTC)" if s.next_run else "")
    )
    if m.labels:
        console.print(
            f"labels {m.labels['dataset']}.{m.labels['label']} by {','.join(m.labels['key'])}"
        )
    if m.webhook:
        console.print(f"webhook {m.webhook['url']}")
    if m.action:
        console.print(f"on violation: {m.action}")
    if s.last_run:
        console.print(
            f"last window {s.last_run.window_start:%Y-%m-%d %H:%M}.."
            f"{s.last_run.window_end:%H:%M}: {s.last_run.status}, "
            f"{s.open_alerts} open alert(s); report {_local(s.last_run.html_uri)}"
        )


@monitors_app.command("history")
def monitors_history(ctx: typer.Context, name: str, as_json: JsonFlag = False) -> None:
    """The monitor's runs, latest window first."""
    from shipyard.monitor import monitor_history

    runs = either(ctx, lambda c: c.monitor_history(name), lambda p: monitor_history(p, name))
    if as_json:
        emit_json(runs)
        return
    rows = [
        (
            f"{r.window_start:%Y-%m-%d %H:%M}",
            f"{r.window_end:%H:%M}",
            r.status,
            r.report.get("rows", 0),
            r.violations,
        )
        for r in runs
    ]
    console.print(
        table(f"Runs of {name}", ["window start", "end", "status", "rows", "violations"], rows)
    )


@alerts_app.command("list")
def alerts_list(
    ctx: typer.Context,
    open_only: Annotated[bool, typer.Option("--open", help="Only open alerts.")] = False,
    monitor: Annotated[str | None, typer.Option(help="Only this monitor's alerts.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List alerts, newest first."""
    from shipyard.monitor import list_alerts

    found = either(
        ctx,
        lambda c: c.list_alerts(monitor=monitor, open_only=open_only),
        lambda p: list_alerts(p, monitor=monitor, open_only=open_only),
    )
    if as_json:
        emit_json(found)
        return
    rows = [
        (
            a.id,
            a.monitor,
            f"{a.window_start:%Y-%m-%d %H:%M}",
            a.severity,
            a.kind,
            a.violation,
            a.evidence.get("column") or a.evidence.get("metric") or "",
            a.status,
        )
        for a in found
    ]
    console.print(
        table(
            "Alerts",
            ["id", "monitor", "window", "severity", "kind", "violation", "on", "status"],
            rows,
        )
    )


@alerts_app.command("ack")
def alerts_ack(
    ctx: typer.Context,
    alert_id: Annotated[str, typer.Argument(help="The alert's id.")],
    comment: Annotated[str | None, typer.Option(help="Why, for the record.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Acknowledge an alert."""
    from shipyard.monitor import ack_alert

    alert = either(
        ctx,
        lambda c: c.ack_alert(alert_id, comment=comment),
        lambda p: ack_alert(p, alert_id, comment=comment),
    )
    if as_json:
        emit_json(alert)
        return
    console.print(f"Alert {alert.id} acknowledged by {alert.acked_by}.")
