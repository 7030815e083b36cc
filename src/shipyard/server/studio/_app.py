"""The Studio ASGI app: static assets, the login page, error pages, and every room's pages."""

from __future__ import annotations

import contextlib
import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, FastAPI, Form, Query, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import FileResponse, RedirectResponse, Response

from shipyard.entities import Actor
from shipyard.errors import PermissionDenied, ShipyardError, Unauthenticated
from shipyard.project import Project
from shipyard.security import Authorizer, BrowserLogin
from shipyard.security._ratelimit import FailureLimiter
from shipyard.server.studio._auth import COOKIE, check_csrf, safe_next
from shipyard.server.studio._errors import install_error_pages, refuse_page
from shipyard.server.studio._render import PLOTLY_URL, STATIC, render

__all__ = ["Studio", "create_studio"]

_STATIC_HEADERS = {"Cache-Control": "public, max-age=3600"}


class Studio(FastAPI):
    """Studio's app; ``browser_login`` tells the REST server's guard how its pages sign in."""

    browser_login: BrowserLogin


@lru_cache(maxsize=1)
def plotly_path() -> Path:
    """plotly.min.js as the plotly package ships it."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("plotly is not installed; Studio's charts need it.")
    return Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"


def create_studio(project: Project) -> Studio:
    """Studio over ``project``; serve it with ``create_app(project, studio=studio)``.

    Every page acts as the token its visitor logged in with (its role, its environment).
    """
    from shipyard.server.studio.pages import PAGES

    app = Studio(
        title="Shipyard Studio",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(check_csrf)],
    )
    app.state.project = project
    app.browser_login = BrowserLogin(
        cookie=COOKIE,
        api_prefix="/api/v1",
        open_prefixes=("/login", f"{STATIC}/"),
        refuse=refuse_page,
    )
    install_error_pages(app)
    _add_login(app, project)

    @app.get(PLOTLY_URL, include_in_schema=False)
    async def plotly_js() -> Response:
        return FileResponse(plotly_path(), media_type="text/javascript", headers=_STATIC_HEADERS)

    static = Path(__file__).parent / "static"
    app.mount(STATIC, StaticFiles(directory=static), name="static")
    for router in PAGES:
        app.include_router(router)
    return app


def _add_login(app: Studio, project: Project) -> None:
    settings = project.settings
    authorizer = Authorizer(project.catalog, cache_seconds=settings.auth_cache_seconds)
    limiter = FailureLimiter(settings.auth_max_failures)

    @app.get("/login", include_in_schema=False)
    async def login_page(
        request: Request,
        next_: Annotated[str | None, Query(alias="next", max_length=2048)] = None,
        expired: Annotated[bool, Query()] = False,
    ) -> Response:
        message = "Your session's token is no longer valid; log in again." if expired else None
        return render(request, "login.html", None, next=safe_next(next_), message=message)

    @app.post("/login", include_in_schema=False)
    async def login(
        request: Request,
        token: Annotated[str, Form(max_length=512)] = "",
        next_: Annotated[str, Form(alias="next", max_length=2048)] = "/",
    ) -> Response:
        address = request.client.host if request.client else "-"
        target = safe_next(next_)
        try:
            if limiter.retry_after(address):
                raise PermissionDenied(f"Too many failed logins from {address}; wait a minute.")
            await anyio.to_thread.run_sync(
                authorizer.authorize, token.strip() or None, "read", settings.env
            )
        except (Unauthenticated, PermissionDenied) as exc:
            limiter.fail(address)
            await anyio.to_thread.run_sync(_audit_denied, project, exc, address)
            return render(
                request, "login.html", None, status_code=exc.status_code, next=target,
                message=str(exc),
            )  # fmt: skip
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE,
            token.strip(),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
        return response

    @app.post("/logout", include_in_schema=False)
    async def logout() -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response


def _audit_denied(project: Project, exc: ShipyardError, address: str) -> None:
    actor = Actor(str(exc.details.get("token", "anonymous")), "ui", address)
    details = {"route": "/login", "status": exc.status_code, "reason": exc.kind}
    with contextlib.suppress(ShipyardError):  # the refusal stands even when the audit is down
        project.catalog.record_event("auth.denied", "route", "/login", actor=actor, details=details)
