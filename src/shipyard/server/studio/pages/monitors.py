"""Monitors: each monitor's drift per feature and model quality over time (Plotly charts),
its alerts with their evidence, and acknowledging an alert (roles that may ``monitor``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from shipyard.catalog.paging import PageQuery
from shipyard.monitor import MonitorSeries, Series
from shipyard.server.studio._auth import Viewer, viewer
from shipyard.server.studio._render import render

router = APIRouter()

NAME = r"^[A-Za-z][A-Za-z0-9_\-]{0,127}$"
PAGE = 20
"""Monitors and alerts per page."""
WINDOWS = 200
"""How many of the latest windows the charts draw."""
Cursor = Annotated[str | None, Query(max_length=4096)]
Who = Annotated[Viewer, Depends(viewer)]
_STATUS = r"^(open|acked)$"


@router.get("/monitors", include_in_schema=False)
def monitors(request: Request, who: Who, cursor: Cursor = None) -> Response:
    from shipyard.monitor import monitors_page

    found = monitors_page(who.project, PageQuery(limit=PAGE, cursor=cursor))
    return render(
        request,
        "monitors/index.html",
        who,
        monitors=found.items,
        next_url=f"/monitors?cursor={found.next_cursor}" if found.next_cursor else None,
    )


@router.get("/monitors/{name}", include_in_schema=False)
def monitor(
    request: Request,
    who: Who,
    name: Annotated[str, Path(pattern=NAME)],
    status: Annotated[str | None, Query(pattern=_STATUS)] = "open",
    cursor: Cursor = None,
) -> Response:
    from shipyard.monitor import alerts_page, monitor_series, show_monitor

    project = who.project
    shown = show_monitor(project, name)
    series = monitor_series(project, name, windows=WINDOWS)
    query = PageQuery(limit=PAGE, cursor=cursor, filters={"monitor": name, "status": status})
    alerts = alerts_page(project, query)
    base = f"/monitors/{name}?status={status or ''}"
    context: dict[str, Any] = {
        "shown": shown,
        "series": series,
        "drift_chart": drift_figure(series),
        "quality_chart": quality_figure(series),
        "labelled_chart": labelled_figure(series.labelled),
        "alerts": [(a, evidence_rows(a.evidence)) for a in alerts.items],
        "status": status,
        "next_url": f"{base}&cursor={alerts.next_cursor}" if alerts.next_cursor else None,
    }
    template = "monitors/_alerts.html" if request.headers.get("hx-target") == "alerts" else None
    return render(request, template or "monitors/monitor.html", who, **context)


@router.post("/monitors/{name}/alerts/{alert_id}/ack", include_in_schema=False)
def ack(
    who: Who,
    name: Annotated[str, Path(pattern=NAME)],
    alert_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    comment: Annotated[str | None, Form(max_length=2000)] = None,
) -> Response:
    from shipyard.monitor import ack_alert

    who.require("monitor")
    ack_alert(who.project, alert_id, comment=comment or None)
    return RedirectResponse(f"/monitors/{name}", status_code=303)


def evidence_rows(evidence: dict[str, Any]) -> list[tuple[str, str]]:
    """An alert's evidence as (name, text) rows: numbers rounded, lists joined."""
    from shipyard.htmlpage import fmt_num

    def text(value: Any) -> str:
        if isinstance(value, bool) or value is None:
            return str(value).lower() if value is not None else "—"
        if isinstance(value, int | float):
            return fmt_num(value)
        if isinstance(value, list | tuple):
            return ", ".join(text(v) for v in value) or "—"
        if isinstance(value, dict):
            return "; ".join(f"{k}: {text(v)}" for k, v in value.items()) or "—"
        return str(value)

    return [(key.replace("_", " "), text(value)) for key, value in evidence.items()]


def _x(series: Series) -> list[str]:
    return [p.window_start.isoformat() for p in series.points]


def _step(windows: Sequence[datetime]) -> timedelta:
    """The spacing of the windows (the smallest gap), a day when there is one window."""
    ordered = sorted(set(windows))
    gaps = [b - a for a, b in pairwise(ordered)]
    return min(gaps, default=timedelta(days=1))


def _time_axis(windows: Sequence[datetime]) -> dict[str, Any]:
    """A date axis; with one window, a window either side of it, so Plotly does not zoom
    into a millisecond around a single point."""
    axis: dict[str, Any] = {"type": "date"}  # its dates say what it is; a title hits the legend
    distinct = set(windows)
    if len(distinct) == 1:
        only, pad = next(iter(distinct)), _step(windows)
        axis["range"] = [(only - pad).isoformat(), (only + pad).isoformat()]
    return axis


def drift_figure(series: MonitorSeries) -> dict[str, Any] | None:
    """One line per feature: its distance from the baseline per window; drifted windows
    marked with a red ring."""
    if not series.drift:
        return None
    data: list[dict[str, Any]] = []
    for s in series.drift:
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": s.name,
                "x": _x(s),
                "y": [p.value for p in s.points],
                "text": [
                    ("drifted" if p.flagged else "no drift") + f" ({p.note})" for p in s.points
                ],
                "marker": {
                    "size": [11 if p.flagged else 6 for p in s.points],
                    "line": {
                        "width": [2 if p.flagged else 0 for p in s.points],
                        "color": "#b3131b",
                    },
                },
                "hovertemplate": "%{x}<br>" + s.name + ": %{y:.3f}<br>%{text}<extra></extra>",
            }
        )
    layout = {
        "margin": {"t": 10, "r": 10, "b": 40, "l": 60},
        "yaxis": {"title": {"text": "distance from baseline"}, "rangemode": "tozero"},
        "xaxis": _time_axis(series.windows),
        "legend": {"orientation": "h", "y": -0.25},
        "height": 360,
    }
    return {"data": data, "layout": layout}


def quality_figure(series: MonitorSeries) -> dict[str, Any] | None:
    """Each metric per window with its 95 % interval (measured once labels arrive, CBPE's
    estimate before), and the baseline's value as a dashed line."""
    if not series.quality:
        return None
    data: list[dict[str, Any]] = []
    for s in series.quality:
        values = [p.value for p in s.points]
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": s.name,
                "x": _x(s),
                "y": values,
                "text": [p.note or "" for p in s.points],
                "error_y": {
                    "type": "data",
                    "symmetric": False,
                    "array": [_gap(p.high, p.value) for p in s.points],
                    "arrayminus": [_gap(p.value, p.low) for p in s.points],
                },
                "marker": {"symbol": ["x" if p.flagged else "circle" for p in s.points], "size": 8},
                "hovertemplate": "%{x}<br>" + s.name + ": %{y:.3f} (%{text})<extra></extra>",
            }
        )
        then = series.baseline.get(s.name)
        if then is not None and s.points:
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": f"{s.name} baseline",
                    "x": [_x(s)[0], _x(s)[-1]],
                    "y": [then, then],
                    "line": {"dash": "dash", "width": 1},
                    "hoverinfo": "skip",
                }
            )
    layout = {
        "margin": {"t": 10, "r": 10, "b": 40, "l": 60},
        "yaxis": {"title": {"text": "metric"}},
        "xaxis": _time_axis(series.windows),
        "legend": {"orientation": "h", "y": -0.25},
        "height": 360,
    }
    return {"data": data, "layout": layout}


def labelled_figure(labelled: Series) -> dict[str, Any] | None:
    """The share of each window's captured rows whose label has arrived."""
    if not labelled.points:
        return None
    windows = [p.window_start for p in labelled.points]
    return {
        "data": [
            {
                "type": "bar",
                "name": "labelled",
                "x": _x(labelled),
                "y": [p.value for p in labelled.points],
                "text": [p.note for p in labelled.points],
                "hovertemplate": "%{x}<br>%{y:.0%} labelled (%{text} rows)<extra></extra>",
                "width": _step(windows).total_seconds() * 1000 * 0.8,  # ms on a date axis
            }
        ],
        "layout": {
            "margin": {"t": 10, "r": 10, "b": 40, "l": 60},
            "xaxis": _time_axis(windows),
            "yaxis": {"title": {"text": "share labelled"}, "range": [0, 1], "tickformat": ".0%"},
            "height": 220,
        },
    }


def _gap(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else max(0.0, a - b)
