"""Alerts: what a monitor run's violations became, how they were notified, and their ack."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

from shipyard.catalog.paging import Page, PageQuery
from shipyard.entities import Alert, Monitor, to_json
from shipyard.errors import InvalidInput
from shipyard.project import Project

__all__ = ["ack_alert", "alerts_page", "list_alerts", "notify"]

log = logging.getLogger("shipyard.monitor")


def list_alerts(
    project: Project, *, monitor: str | None = None, open_only: bool = False
) -> list[Alert]:
    """Alerts, newest first, of one monitor or all, open ones only or all.

    Raises:
        NotFound: ``monitor`` names no monitor.
    """
    if monitor is not None:
        project.catalog.get_monitor(monitor)
    return project.catalog.list_alerts(monitor=monitor, status="open" if open_only else None)


def alerts_page(project: Project, query: PageQuery) -> Page[Alert]:
    """One page of alerts (sorts and filters: ``alerts`` in
    :data:`~shipyard.catalog.paging.LISTINGS`), newest first by default.

    Raises:
        NotFound: The ``monitor`` filter names no monitor.
        InvalidInput: A bad sort, filter, limit or cursor.
    """
    monitor = query.filters.get("monitor")
    if monitor is not None:
        project.catalog.get_monitor(str(monitor))
    return project.catalog.page_alerts(query)


def ack_alert(project: Project, alert_id: int | str, *, comment: str | None = None) -> Alert:
    """Acknowledge an open alert (recorded with who and when, audited).

    Raises:
        InvalidInput: The id is not a whole number.
        NotFound: No alert has that id.
        Conflict: It was acknowledged already.
    """
    try:
        number = int(str(alert_id))
    except ValueError:
        raise InvalidInput(f"An alert id is a whole number. Got {alert_id!r} instead.") from None
    return project.catalog.ack_alert(number, comment=comment, actor=project.actor)


def notify(project: Project, monitor: Monitor, alerts: Sequence[Alert]) -> list[Alert]:
    """Tell the log, the monitor's webhook and its on-violation command about new alerts,
    and record each outcome on the alerts. A notifier that fails is recorded, not raised."""
    from shipyard.monitor._notify import PIPELINE_PREFIX, post_webhook, run_command, start_pipeline

    if not alerts:
        return []
    for alert in alerts:
        log.warning(
            "Monitor %s: %s %s/%s over %s..%s",
            monitor.name,
            alert.severity,
            alert.kind,
            alert.violation,
            alert.window_start.isoformat(),
            alert.window_end.isoformat(),
        )
    payload: dict[str, Any] = {
        "monitor": monitor.name,
        "model": monitor.model,
        "alerts": [to_json(a) for a in alerts],
    }
    outcome: dict[str, Any] = {"log": {"status": "ok"}}
    if monitor.webhook.get("url"):
        env = monitor.webhook.get("secret_env")
        secret = os.environ.get(env) if env else None
        outcome["webhook"] = post_webhook(monitor.webhook["url"], payload, secret=secret)
        if env and secret is None:
            outcome["webhook"]["warning"] = f"${env} is not set: the body was not signed"
    if monitor.action and monitor.action.startswith(PIPELINE_PREFIX):
        pipeline = monitor.action[len(PIPELINE_PREFIX) :].strip()
        outcome["action"] = start_pipeline(project.root, pipeline, monitor.name, payload)
    elif monitor.action:
        outcome["action"] = run_command(monitor.action, payload)
    return [project.catalog.set_alert_notified(a.id, outcome) for a in alerts]
