"""Home: each environment and what it serves, open alerts, recent runs and pipeline runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from shipyard.catalog.paging import PageQuery
from shipyard.errors import NotFound, ShipyardError
from shipyard.project import Project
from shipyard.security.roles import ENVIRONMENTS
from shipyard.server.studio._auth import Viewer, viewer
from shipyard.server.studio._render import render

router = APIRouter()

RECENT = 8
"""How many of each list the home page shows (each links to its room's full listing)."""
MODELS_CHECKED = 12
"""How many models' environment aliases are looked up (the first page of the registry)."""


@dataclass
class EnvironmentView:
    """What one environment serves: its endpoints and the models whose alias points there."""

    name: str
    endpoints: list[Any] = field(default_factory=list)
    aliases: list[Any] = field(default_factory=list)
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
    from shipyard.deploy import list_endpoints
    from shipyard.registry import resolve_model

    names = [m.name for m in project.catalog.page_models(PageQuery(limit=MODELS_CHECKED)).items]
    views = []
    for env in ENVIRONMENTS:
        view = EnvironmentView(env)
        try:
            view.endpoints = list_endpoints(project, env=env)[:RECENT]
            for name in names:
                try:
                    view.aliases.append(resolve_model(project, f"{name}@{env}"))
                except NotFound:
                    continue
        except ShipyardError as exc:  # one environment's store down: say so, show the rest
            view.problem = str(exc)
        views.append(view)
    return views


def _pipeline_runs(project: Project) -> list[Any]:
    from shipyard.pipelines import list_pipelines

    last = [p.last_run for p in list_pipelines(project) if p.last_run is not None]
    return sorted(last, key=lambda r: r.started_at, reverse=True)[:RECENT]
