"""Server-side rendering: one Jinja2 environment over the package's templates, the base
layout's navigation, and the helpers every template may call."""

from __future__ import annotations

import json
import math
from datetime import datetime
from functools import lru_cache
from typing import Any

import jinja2
from fastapi import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from shipyard.htmlpage import fmt_num
from shipyard.server.studio._auth import CSRF_FIELD, CSRF_HEADER, Viewer
from shipyard.server.studio._charts import flatten

__all__ = ["NAV", "PLOTLY_URL", "ROOM_OF", "STATIC", "environment", "is_htmx", "render", "to_json"]

STATIC = "/static"
PLOTLY_URL = f"{STATIC}/plotly.min.js"
"""Plotly, served once from the plotly package (no CDN: Studio works offline)."""

NAV: tuple[tuple[str, str], ...] = (
    ("Home", "/"),
    ("Datasets", "/datasets"),
    ("Features", "/features"),
    ("Experiments", "/experiments"),
    ("Models", "/models"),
    ("Endpoints", "/endpoints"),
    ("Monitors", "/monitors"),
    ("Pipelines", "/pipelines"),
    ("Audit", "/audit"),
)
"""The rooms in the navigation bar: (label, path)."""

ROOM_OF: dict[str, str] = {"/runs": "/experiments"}
"""Path prefixes that belong to another room's navigation entry than their own."""


def to_json(value: Any) -> str:
    """JSON for a ``<script type="application/json">`` block: no NaN, nothing that closes
    the script element early."""

    def clean(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        if isinstance(v, datetime):
            return v.isoformat()
        return v

    text = json.dumps(clean(value), separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _seconds(value: Any) -> str:
    """A number of seconds in the largest whole unit (``604800`` -> ``7d``); else as given."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return str(value)
    for unit, size in (("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60)):
        if value % size == 0:
            return f"{int(value // size)}{unit}"
    return f"{value:g}s"


def _when(value: datetime | None) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M")


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The templates of ``server/studio/templates`` (autoescaped, undefined names fail)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("shipyard.server.studio", "templates"),
        autoescape=jinja2.select_autoescape(("html",)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(num=fmt_num, when=_when, seconds=_seconds, tojson_safe=to_json, flat=flatten)
    env.globals.update(
        NAV=NAV,
        STATIC=STATIC,
        PLOTLY_URL=PLOTLY_URL,
        CSRF_FIELD=CSRF_FIELD,
        CSRF_HEADER=CSRF_HEADER,
    )
    return env


@lru_cache(maxsize=1)
def _templates() -> Jinja2Templates:
    return Jinja2Templates(env=environment())


def is_htmx(request: Request) -> bool:
    """Whether htmx asked for a fragment (not the whole page; a history restore after a
    cache miss wants the whole page too)."""
    headers = request.headers
    return (
        headers.get("hx-request") == "true" and headers.get("hx-history-restore-request") != "true"
    )


def render(
    request: Request,
    template: str,
    viewer: Viewer | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """``template`` rendered with ``context`` plus ``viewer``, ``can(action, env)``, the
    CSRF token, and the room the path belongs to (highlighted in the navigation)."""
    path = request.url.path
    rooms = [*ROOM_OF.items(), *((p, p) for _, p in NAV if p != "/")]
    room = next((room for prefix, room in rooms if path.startswith(prefix)), "/")
    page: dict[str, Any] = {
        "request": request,
        "viewer": viewer,
        "can": viewer.can if viewer else (lambda action, env=None: False),
        "csrf": viewer.csrf if viewer else "",
        "room": room,
        **context,
    }
    response: HTMLResponse = _templates().TemplateResponse(
        request, template, page, status_code=status_code
    )
    return response
