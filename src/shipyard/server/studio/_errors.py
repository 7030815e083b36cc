"""Errors as pages: a room's error (404 with its did-you-mean, 403 naming the role needed,
422 saying what was expected), an unknown path, and the guard's refusals of a page."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from shipyard.errors import ShipyardError
from shipyard.server.studio._auth import COOKIE, roles_for, viewer_of
from shipyard.server.studio._render import NAV, is_htmx, render

__all__ = ["install_error_pages", "refuse_page"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

log = logging.getLogger("shipyard.server.studio")

_TITLES = {
    400: "Bad request",
    401: "Please log in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    422: "Invalid input",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Unavailable",
}


def error_page(
    request: Request, status: int, message: str, details: dict[str, Any] | None = None
) -> Response:
    """The error page (a fragment of it when htmx asked), with ``status``."""
    details = details or {}
    template = "_error.html" if is_htmx(request) else "error.html"
    signed_in = "token" in (request.scope.get("state") or {}) and "app" in request.scope
    viewer = viewer_of(request) if signed_in else None
    return render(
        request,
        template,
        viewer,
        status_code=status,
        title=_TITLES.get(status, "Error"),
        status=status,
        message=message,
        roles=details.get("roles") or (roles_for(details["action"]) if "action" in details else []),
    )


def _suggest(path: str) -> str:
    first = "/" + path.strip("/").split("/")[0]
    rooms = [p for _, p in NAV]
    close = difflib.get_close_matches(first, rooms, n=1, cutoff=0.6)
    return f" Did you mean {close[0]}?" if close else ""


def install_error_pages(app: FastAPI) -> None:
    """Answer every error of ``app`` with a page."""

    @app.exception_handler(ShipyardError)
    async def room_error(request: Request, exc: ShipyardError) -> Response:
        return error_page(request, exc.status_code, str(exc), exc.details)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'input'}: {e['msg']}" for e in exc.errors()
        )
        return error_page(request, 422, f"The page's parameters are not valid: {problems}.")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404:
            message = f"No page at {request.url.path}.{_suggest(request.url.path)}"
        else:
            message = str(exc.detail)
        return error_page(request, exc.status_code, message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("Studio failed on %s %s", request.method, request.url.path)
        return error_page(
            request, 500, "Studio failed to show this page; the server's log has the details."
        )


async def refuse_page(scope: Scope, receive: Receive, send: Send, error: ShipyardError) -> None:
    """The guard refused a page: to the login page without a (valid) token, else an error page."""
    request = Request(scope, receive)
    response: Response
    if error.status_code == 401:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target = f"/login?next={quote(here, safe='')}"
        if COOKIE in request.cookies:
            target += "&expired=1"
        if is_htmx(request):
            response = Response(status_code=401, headers={"HX-Redirect": target})
        else:
            response = RedirectResponse(target, status_code=303)
        if COOKIE in request.cookies:
            response.delete_cookie(COOKIE, path="/")
    else:
        response = error_page(request, error.status_code, str(error), error.details)
    await response(scope, receive, send)
