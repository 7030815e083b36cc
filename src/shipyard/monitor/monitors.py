"""Monitors: what to watch (a model ref), which checks, how often, and what to do on a
violation. Creating one validates everything up front, so a run never meets a bad setting."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shipyard.catalog.paging import Page, PageQuery
from shipyard.catalog.refs import parse_dataset_ref, parse_model_ref
from shipyard.entities import Monitor, MonitorRun
from shipyard.errors import InvalidInput, did_you_mean
from shipyard.project import Project

__all__ = [
    "KINDS",
    "MonitorStatus",
    "create_monitor",
    "list_monitors",
    "monitor_history",
    "monitors_page",
    "next_run",
    "parse_window",
    "show_monitor",
]

KINDS = ("data-quality", "drift", "model-quality", "bias", "attribution")
"""The checks a monitor can run on each window."""
_UNITS = {"m": 60, "h": 3600, "d": 86400}
_WINDOW = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,127}$")


def parse_window(text: str) -> int:
    """``30m``, ``1h`` or ``7d`` as seconds (at least 1 minute, at most 31 days)."""
    match = _WINDOW.match(str(text))
    seconds = int(match.group(1)) * _UNITS[match.group(2)] if match else 0
    if not 60 <= seconds <= 31 * 86400:
        raise InvalidInput(
            "The window must be a whole number of minutes, hours or days between 1m and 31d, "
            f"like 30m, 1h or 7d. Got {text!r} instead."
        )
    return seconds


def parse_kinds(kinds: Sequence[str] | str) -> tuple[str, ...]:
    items = kinds.split(",") if isinstance(kinds, str) else [k for s in kinds for k in s.split(",")]
    out = []
    for kind in (k.strip() for k in items):
        if kind not in KINDS:
            raise InvalidInput(
                f"Unknown monitor kind {kind!r}.{did_you_mean(kind, KINDS)} "
                f"Kinds: {', '.join(KINDS)}."
            )
        out.append(kind)
    if not out:
        raise InvalidInput(f"Give at least one monitor kind: {', '.join(KINDS)}.")
    return tuple(dict.fromkeys(out))


def check_schedule(schedule: str | None) -> None:
    """Refuse a cron expression that does not parse (cronsim reads it as cron does)."""
    if schedule is None:
        return
    from cronsim import CronSim, CronSimError

    try:
        CronSim(schedule, datetime.now(UTC))
    except (CronSimError, ValueError) as exc:
        raise InvalidInput(
            f"The schedule {schedule!r} is not a cron expression: {exc}. Use five fields, "
            "minute hour day month weekday, e.g. '0 * * * *' for every hour."
        ) from exc


def next_run(schedule: str | None, after: datetime | None = None) -> datetime | None:
    """When the schedule next fires after ``after`` (now by default); None without one."""
    if schedule is None:
        return None
    from cronsim import CronSim

    return next(CronSim(schedule, after or datetime.now(UTC)))


def create_monitor(
    project: Project,
    name: str,
    *,
    model: str,
    kinds: Sequence[str] | str = KINDS[:2],
    schedule: str | None = None,
    window: str = "1h",
    labels: str | None = None,
    label: str | None = None,
    label_key: Sequence[str] | str = ("request_id",),
    webhook: str | None = None,
    webhook_secret_env: str | None = None,
    on_violation: str | None = None,
) -> Monitor:
    """Validate and record a monitor.

    Raises:
        InvalidInput: A bad name, kind (with a close one suggested), cron schedule, window,
            label key or webhook URL, labels without a label column, or an on-violation
            ``pipeline:NAME`` whose pipeline takes no json parameter ``alert``.
        NotFound: The model (or its baseline: the message says how to make one), the
            labels dataset, or the on-violation pipeline does not exist.
        AlreadyExists: A monitor has that name.
    """
    from shipyard.monitor.baseline import load_baseline

    if not _NAME.match(name):
        raise InvalidInput(
            "A monitor name starts with a letter and holds letters, digits, '-' and '_' "
            f"(at most 128). Got {name!r} instead."
        )
    parse_model_ref(model)
    chosen = parse_kinds(kinds)
    check_schedule(schedule)
    seconds = parse_window(window)
    load_baseline(project, model)  # a monitor compares with a baseline: refuse without one
    label_spec = _labels(project, labels, label, label_key, chosen)
    hook = _webhook(webhook, webhook_secret_env)
    _check_action(project, on_violation)
    return project.catalog.create_monitor(
        name,
        model=model,
        kinds=chosen,
        schedule=schedule,
        window_seconds=seconds,
        labels=label_spec,
        action=on_violation,
        webhook=hook,
        actor=project.actor,
    )


def _labels(
    project: Project,
    dataset: str | None,
    label: str | None,
    key: Sequence[str] | str,
    kinds: tuple[str, ...],
) -> dict[str, Any]:
    if dataset is None:
        if label is not None:
            raise InvalidInput("--label names the label column of --labels DATASET; give both.")
        return {}
    if not label:
        raise InvalidInput(f"Give the label column of {dataset} with --label COLUMN.")
    ref = parse_dataset_ref(dataset)
    version = project.catalog.get_dataset_version(ref.name, ref.version)
    keys = [k.strip() for k in (key.split(",") if isinstance(key, str) else key) if k.strip()]
    if len(keys) not in (1, 2):
        raise InvalidInput(
            "--label-key is a request id column (request_id) or ENTITY,TIME. "
            f"Got {','.join(keys) or 'nothing'} instead."
        )
    columns = [c.name for c in version.columns]
    from shipyard.errors import require_columns

    require_columns([label, *keys], columns, role="labels")
    return {"dataset": ref.name, "label": label, "key": keys}


def _check_action(project: Project, action: str | None) -> None:
    """A ``pipeline:NAME`` action must name a registered pipeline that takes the alerts as
    a json parameter ``alert``."""
    from shipyard.monitor._notify import PIPELINE_PREFIX

    if not action or not action.startswith(PIPELINE_PREFIX):
        return
    name = action[len(PIPELINE_PREFIX) :].strip()
    definition = project.catalog.get_pipeline(name).definition
    alert = definition.get("parameters", {}).get("alert")
    if not alert or alert.get("type") != "json":
        raise InvalidInput(
            f"--on-violation pipeline:{name} passes the alerts as its json parameter 'alert', "
            f"which pipeline {name!r} does not take. Add `alert: {{type: json, default: {{}}}}` "
            "to its parameters and run it once (`shipyard pipelines run`) to register it."
        )


def _webhook(url: str | None, secret_env: str | None) -> dict[str, Any]:
    if url is None:
        if secret_env is not None:
            raise InvalidInput("--webhook-secret-env names the secret of --webhook URL; give both.")
        return {}
    if not re.match(r"^https?://[^\s/]+", url):
        raise InvalidInput(f"The webhook must be an http:// or https:// URL. Got {url!r} instead.")
    return {"url": url, "secret_env": secret_env}


@dataclass(frozen=True)
class MonitorStatus:
    """A monitor with its latest run, open alerts and next scheduled time."""

    monitor: Monitor
    last_run: MonitorRun | None
    open_alerts: int
    next_run: datetime | None


def list_monitors(project: Project) -> list[MonitorStatus]:
    """Every monitor with its latest run and open alerts."""
    return [show_monitor(project, m.name) for m in project.catalog.list_monitors()]


def show_monitor(project: Project, name: str) -> MonitorStatus:
    """A monitor's settings, latest run, open alerts and next scheduled time.

    Raises:
        NotFound: No such monitor (a close name is suggested).
    """
    return _status(project, project.catalog.get_monitor(name))


def monitors_page(project: Project, query: PageQuery) -> Page[MonitorStatus]:
    """One page of monitors (sorts and filters: ``monitors`` in
    :data:`~shipyard.catalog.paging.LISTINGS`), each with its latest run and open alerts.

    Raises:
        InvalidInput: A bad sort, filter, limit or cursor.
    """
    found = project.catalog.page_monitors(query)
    return Page([_status(project, m) for m in found.items], found.next_cursor)


def _status(project: Project, monitor: Monitor) -> MonitorStatus:
    runs = project.catalog.list_monitor_runs(monitor.name, limit=1)
    open_alerts = project.catalog.count_alerts(monitor=monitor.name, status="open")
    return MonitorStatus(
        monitor, runs[0] if runs else None, open_alerts, next_run(monitor.schedule)
    )


def monitor_history(project: Project, name: str, *, limit: int = 50) -> list[MonitorRun]:
    """The runs of a monitor, latest window first."""
    return project.catalog.list_monitor_runs(name, limit=limit)
