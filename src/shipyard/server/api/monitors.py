"""Monitors (their runs per window, running one now) and the alerts they raise (ack)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime, BaseModel, Field

from shipyard.entities import Alert, Monitor, MonitorRun
from shipyard.monitor import MonitorSeries, MonitorStatus, WindowResult
from shipyard.server._deps import NAME, PageOut, PageParams, ProjectDep, paging
from shipyard.server._routing import needs

router = APIRouter(tags=["monitors"])

Name = Annotated[str, Path(pattern=NAME, description="The monitor's name.")]


class RunBody(BaseModel):
    since: AwareDatetime | None = Field(None, description="Start (ISO 8601, with a zone).")
    until: AwareDatetime | None = Field(None, description="End (ISO 8601, with a zone).")
    force: bool = Field(False, description="Check windows that were checked before again.")


class MonitorResultOut(BaseModel):
    monitor: Monitor
    model: str = Field(description="The model version the windows were checked against.")
    violations: int = Field(description="How many alerts the run raised.")
    windows: list[WindowResult]


class AckBody(BaseModel):
    comment: str | None = Field(None, max_length=2000, description="Why, for the record.")


@router.get("/monitors", **needs("read"))
def list_monitors(
    project: ProjectDep,
    page: Annotated[PageParams, paging("monitors")],
    model: Annotated[str | None, Query(max_length=200)] = None,
) -> PageOut[MonitorStatus]:
    """Monitors, each with its latest run, open alerts and next scheduled time."""
    from shipyard.monitor import monitors_page

    found = monitors_page(project, page.query(model=model))
    return PageOut(items=found.items, next_cursor=found.next_cursor)


@router.get("/monitors/{name}", **needs("read"))
def get_monitor(project: ProjectDep, name: Name) -> MonitorStatus:
    """A monitor's settings, latest run, open alerts and next scheduled time."""
    from shipyard.monitor import show_monitor

    return show_monitor(project, name)


@router.get("/monitors/{name}/runs", **needs("read"))
def list_monitor_runs(
    project: ProjectDep,
    name: Name,
    page: Annotated[PageParams, paging("monitor_runs")],
    status: Annotated[Literal["ok", "violations", "empty"] | None, Query()] = None,
) -> PageOut[MonitorRun]:
    """A monitor's runs with their reports, latest window first: drift per feature and model
    quality over time."""
    project.catalog.get_monitor(name)  # an unknown name is a 404 with a suggestion, not []
    found = project.catalog.page_monitor_runs(page.query(monitor=name, status=status))
    return PageOut(items=found.items, next_cursor=found.next_cursor)


@router.get("/monitors/{name}/series", **needs("read"))
def get_monitor_series(
    project: ProjectDep,
    name: Name,
    windows: Annotated[
        int, Query(ge=1, le=1000, description="How many of the latest windows.")
    ] = 100,
) -> MonitorSeries:
    """Drift per feature and model quality per metric over the latest windows, oldest
    first, as series a chart draws (quality: measured with a 95 % interval once labels
    arrive, estimated by CBPE before; the share of rows labelled so far)."""
    from shipyard.monitor import monitor_series

    return monitor_series(project, name, windows=windows)


@router.post("/monitors/{name}/run", **needs("monitor"))
def run_monitor(project: ProjectDep, name: Name, body: RunBody) -> MonitorResultOut:
    """Check every complete window not checked yet (or ``[since, until)``); violations
    become alerts and are notified. Answers 200 with ``violations`` > 0 when it found any."""
    from shipyard.monitor import run_monitor as run

    result = run(project, name, since=body.since, until=body.until, force=body.force)
    return MonitorResultOut(
        monitor=result.monitor,
        model=result.model,
        violations=result.violations,
        windows=list(result.windows),
    )


@router.get("/alerts", **needs("read"))
def list_alerts(
    project: ProjectDep,
    page: Annotated[PageParams, paging("alerts")],
    monitor: Annotated[str | None, Query(pattern=NAME)] = None,
    status: Annotated[Literal["open", "acked"] | None, Query()] = None,
    severity: Annotated[str | None, Query(max_length=16)] = None,
    kind: Annotated[str | None, Query(max_length=32)] = None,
) -> PageOut[Alert]:
    """Alerts, newest first by default (``sort=severity``: errors first)."""
    from shipyard.monitor import alerts_page

    query = page.query(monitor=monitor, status=status, severity=severity, kind=kind)
    found = alerts_page(project, query)
    return PageOut(items=found.items, next_cursor=found.next_cursor)


@router.post("/alerts/{alert_id}/ack", **needs("monitor"))
def ack_alert(
    project: ProjectDep,
    alert_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: AckBody,
) -> Alert:
    """Acknowledge an open alert (409 when it was acknowledged already)."""
    from shipyard.monitor import ack_alert as ack

    return ack(project, alert_id, comment=body.comment)
