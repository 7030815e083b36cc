"""Home: each environment and what it serves, open alerts, recent runs and pipeline runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from shipyard.catalog.paging import PageQuery
from shipyard.errors import ShipyardError
from shipyard.project import Project
from shipyard.security.roles import ENVIRONMENTS
from shipyard.server.studio._auth import Viewer, viewer
from shipyard.server.studio._render import render

router = APIRouter()

RECENT = 8
"""How many of each list the home page shows (each links to its room's full listing)."""
PROMOTED = 100
"""How many of an environment's promoted models are read to count those not shown."""


@dataclass
class EnvironmentView:
    """What one environment serves: its endpoints and the models whose alias points there."""

    name: str
    endpoints: list[Any] = field(default_factory=list)
    more_endpoints: bool = False
    aliases: list[Any] = field(default_factory=list)
    more_aliases: int = 0
    more_than: bool = False
    """``more_aliases`` is a floor: the environment serves more models than were read."""
    problem: str | None = None


@router.get("/", include_in_schema=False)
def home(request: Request, who: Annotated[Viewer, Depends(viewer)]) -> Response:
    from shipyard.monitor import alerts_page
    from shipyard.tracking import runs_page

    project = who.project
    alerts = alerts_page(project, PageQuery(limit=RECENT, filters={"status": "open"}))
    runs = runs_page(project, PageQuery(limit=RECENT))
    return render(
        request,
        "home/index.html",
        who,
        environments=_environments(project),
        alerts=alerts.items,
        more_alerts=alerts.next_cursor is not None,
        runs=runs.items,
        pipeline_runs=_pipeline_runs(project),
    )


def _environments(project: Project) -> list[EnvironmentView]:
    from shipyard.deploy import endpoints_page
    from shipyard.registry import versions_page

    views = []
    for env in ENVIRONMENTS:
        view = EnvironmentView(env)
        try:
            endpoints = endpoints_page(project, env, PageQuery(limit=RECENT))
            view.endpoints, view.more_endpoints = endpoints.items, bool(endpoints.next_cursor)
            query = PageQuery("created_at", True, PROMOTED, None, {"alias": env})
            promoted = versions_page(project, query, environment=env)
            view.aliases = promoted.items[:RECENT]
            view.more_aliases = len(promoted.items) - len(view.aliases)
            view.more_than = promoted.next_cursor is not None
        except ShipyardError as exc:  # one environment's store down: say so, show the rest
            view.problem = str(exc)
        views.append(view)
    return views


def _pipeline_runs(project: Project) -> list[Any]:
    from shipyard.pipelines import pipeline_runs_page

    return pipeline_runs_page(project, None, PageQuery(limit=RECENT)).items
