"""Endpoints: each environment's endpoints, and one endpoint's variants with their weights,
its shadow, its revisions, and what its captures record (requests per hour and variant,
latency percentiles)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from shipyard.catalog.paging import PageQuery
from shipyard.deploy import EndpointTraffic
from shipyard.errors import ShipyardError
from shipyard.security.roles import ENVIRONMENTS
from shipyard.server.studio._auth import Viewer, viewer
from shipyard.server.studio._render import render

router = APIRouter()

NAME = r"^[A-Za-z][A-Za-z0-9_\-]{0,127}$"
PAGE = 50
"""Endpoints per environment on a page."""
Who = Annotated[Viewer, Depends(viewer)]
Env = Annotated[Literal["dev", "staging", "prod"], Path()]


@router.get("/endpoints", include_in_schema=False)
def endpoints(
    request: Request,
    who: Who,
    env: Annotated[Literal["dev", "staging", "prod"] | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=4096)] = None,
) -> Response:
    """Each environment's first page of endpoints (with ``env``, that one's, from
    ``cursor``); a "more" link leads to the next page."""
    from shipyard.deploy import endpoints_page

    listed: list[tuple[str, list[Any], str | None, str | None]] = []
    for each in ENVIRONMENTS if env is None else (env,):
        try:
            found = endpoints_page(who.project, each, PageQuery(limit=PAGE, cursor=cursor))
        except ShipyardError as exc:  # one environment's store down: say so, show the rest
            listed.append((each, [], str(exc), None))
            continue
        more = f"/endpoints?env={each}&cursor={found.next_cursor}" if found.next_cursor else None
        listed.append((each, found.items, None, more))
    return render(request, "endpoints/index.html", who, environments=listed, only=env)


@router.get("/endpoints/{env}/{name}", include_in_schema=False)
def endpoint(
    request: Request,
    who: Who,
    env: Env,
    name: Annotated[str, Path(pattern=NAME)],
    hours: Annotated[int, Query(ge=1, le=744)] = 24,
) -> Response:
    from shipyard.deploy import endpoint_traffic

    traffic = endpoint_traffic(who.project, name, env=env, hours=hours)
    return render(
        request,
        "endpoints/endpoint.html",
        who,
        t=traffic,
        s=traffic.status,
        hours=hours,
        requests_chart=requests_figure(traffic),
        latency_chart=latency_figure(traffic),
    )


def _lanes(traffic: EndpointTraffic) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for b in traffic.buckets:
        label = f"{b.variant or b.model} ({b.model}:{b.version})"
        out.setdefault(label, []).append(b)
    return out


def requests_figure(traffic: EndpointTraffic) -> dict[str, Any] | None:
    """Captured requests per hour, stacked by variant."""
    if not traffic.buckets:
        return None
    data = [
        {
            "type": "bar",
            "name": label,
            "x": [b.hour.isoformat() for b in rows],
            "y": [b.requests for b in rows],
            "hovertemplate": "%{x}<br>" + label + ": %{y} captured<extra></extra>",
        }
        for label, rows in _lanes(traffic).items()
    ]
    layout = {
        "barmode": "stack",
        "margin": {"t": 10, "r": 10, "b": 40, "l": 60},
        "yaxis": {"title": {"text": "captured requests"}},
        "legend": {"orientation": "h", "y": -0.25},
        "height": 320,
    }
    return {"data": data, "layout": layout}


def latency_figure(traffic: EndpointTraffic) -> dict[str, Any] | None:
    """Latency per hour and variant: p50 solid, p95 dotted."""
    if not traffic.buckets:
        return None
    data = []
    for label, rows in _lanes(traffic).items():
        x = [b.hour.isoformat() for b in rows]
        for stat, dash in (("latency_p50", "solid"), ("latency_p95", "dot")):
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "name": f"{label} {stat[-3:]}",
                    "x": x,
                    "y": [getattr(b, stat) for b in rows],
                    "line": {"dash": dash},
                }
            )
    layout = {
        "margin": {"t": 10, "r": 10, "b": 40, "l": 60},
        "yaxis": {"title": {"text": "latency (ms)"}, "rangemode": "tozero"},
        "legend": {"orientation": "h", "y": -0.25},
        "height": 320,
    }
    return {"data": data, "layout": layout}
