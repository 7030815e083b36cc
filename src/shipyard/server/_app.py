"""The REST API as one ASGI app: guard -> audit -> body limit -> FastAPI (and Studio at /)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import shipyard
from shipyard.entities import Actor
from shipyard.errors import NotFound, ShipyardError
from shipyard.project import Project
from shipyard.security import AuditCalls, AuthGuard, Authorizer
from shipyard.server._errors import error_response, install_error_handlers
from shipyard.server._middleware import BodyLimit
from shipyard.server._routing import RouteInfo, describe_routes, route_resolver

__all__ = ["API_PREFIX", "OPEN_PATHS", "ShipyardApi", "create_app"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

API_PREFIX = "/api/v1"
OPENAPI_PATH = f"{API_PREFIX}/openapi.json"
OPEN_PATHS = frozenset({"/ping", "/healthz", OPENAPI_PATH})
"""Served without a token: health checks for a load balancer, and the API's description."""


class ShipyardApi:
    """The REST API server's ASGI app. ``fastapi`` is the app the routers live in (its
    routes, its OpenAPI document); ``guard`` checks tokens in front of everything."""

    def __init__(
        self, project: Project, fastapi: FastAPI, guard: AuthGuard, routes: list[RouteInfo]
    ) -> None:
        self.project = project
        self.fastapi = fastapi
        self.guard = guard
        self.routes = routes
        """Every API operation (method, path template, action), as the guard sees them."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.guard(scope, receive, send)


def create_app(
    project: Project,
    *,
    routers: Iterable[APIRouter] | None = None,
    studio: ASGIApp | None = None,
) -> ShipyardApi:
    """The REST API over ``project``: every room's router under ``/api/v1``, OpenAPI 3.1 at
    ``/api/v1/openapi.json``, ``/ping`` and ``/healthz`` open, every other path behind a
    bearer token whose role (per the role matrix) and environment (``SHIPYARD_ENV``) allow
    the route's action; every call that changes something is audited with its outcome.

    Args:
        project: The project served; its catalog, artifact store and lake are opened now
            and shared by every request (each acts as its token's owner).
        routers: The routers to include (default: :data:`shipyard.server.api.ROUTERS`).
        studio: An ASGI app mounted at ``/`` after the API (the web UI), behind the same
            guard; unknown ``/api/v1/...`` paths still answer the API's 404. Its
            ``browser_login`` attribute (a :class:`~shipyard.security.BrowserLogin`), when
            it has one, tells the guard how its pages sign in (a cookie, a login page).

    Raises:
        BackendUnavailable: The catalog or artifact store cannot be opened.
    """
    from shipyard.server.api import ROUTERS

    project.catalog, project.artifacts, project.lake  # noqa: B018 - opened once, shared
    settings = project.settings
    api = FastAPI(
        title="Shipyard REST API",
        version=shipyard.__version__,
        summary="Datasets, features, experiments, models, monitors and the audit trail.",
        openapi_url=OPENAPI_PATH,
        docs_url=None,  # Swagger UI and ReDoc load from a CDN; Shipyard works offline
        redoc_url=None,
    )
    api.state.project = project
    install_error_handlers(api)
    api.router.routes.extend([Route("/ping", _ping), Route("/healthz", _healthz)])
    included = list(ROUTERS if routers is None else routers)
    for router in included:
        api.include_router(router, prefix=API_PREFIX)
    routes = describe_routes(included, API_PREFIX)
    api.state.routes = routes
    if studio is not None:
        api.router.routes.append(Route(f"{API_PREFIX}/{{rest:path}}", _unknown, methods=_ALL))
        api.mount("/", studio)
    resolve = route_resolver(routes)

    def record(action: str, actor: Actor, object_id: str, details: dict[str, Any]) -> None:
        project.catalog.record_event(action, "route", object_id, actor=actor, details=details)

    def denied(action: str, actor: Actor, details: dict[str, Any]) -> None:
        record(action, actor, details["route"], details)

    inner = AuditCalls(BodyLimit(api, settings.server_max_body_bytes), resolve, record)
    guard = AuthGuard(
        inner,
        Authorizer(project.catalog, cache_seconds=settings.auth_cache_seconds),
        env=settings.env,
        routes={},
        open_paths=OPEN_PATHS,
        audit=denied,
        max_failures=settings.auth_max_failures,
        face="api",
        action_of=lambda scope: (resolve(scope) or (None, ""))[0],
        browser=getattr(studio, "browser_login", None),
    )
    return ShipyardApi(project, api, guard, routes)


_ALL = ["GET", "POST", "PUT", "PATCH", "DELETE"]


async def _ping(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def _healthz(request: Request) -> Response:
    """200 when the catalog answers, else 503 with the reason."""
    import anyio.to_thread

    project: Project = request.app.state.project
    try:
        await anyio.to_thread.run_sync(project.catalog.list_reports, "healthz")
    except ShipyardError as exc:
        return error_response(exc)
    return JSONResponse({"status": "ok", "env": project.settings.env})


async def _unknown(request: Request) -> Response:
    return error_response(
        NotFound(f"No route {request.method} {request.url.path}. See {OPENAPI_PATH}.")
    )
