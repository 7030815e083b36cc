"""Audit: the trail of every change, newest first, filtered by who, what, object and time, a
page at a time (roles that may ``audit``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from shipyard.catalog.paging import PageQuery
from shipyard.errors import InvalidInput
from shipyard.server.studio._auth import Viewer, viewer
from shipyard.server.studio._render import render

router = APIRouter()

PAGE = 50
"""Events per page."""
Who = Annotated[Viewer, Depends(viewer)]
Text = Annotated[str | None, Query(max_length=256)]


@router.get("/audit", include_in_schema=False)
def audit(
    request: Request,
    who: Who,
    actor: Text = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    object_type: Text = None,
    object_id: Text = None,
    face: Annotated[str | None, Query(max_length=16)] = None,
    since: Annotated[str | None, Query(max_length=40)] = None,
    until: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Annotated[str | None, Query(max_length=4096)] = None,
) -> Response:
    who.require("audit")
    given = {
        "actor": actor or None,
        "action": action or None,
        "object_type": object_type or None,
        "object_id": object_id or None,
        "face": face or None,
    }
    filters = {**given, "since": _time(since, "since"), "until": _time(until, "until")}
    found = who.project.catalog.page_events(PageQuery(limit=PAGE, cursor=cursor, filters=filters))
    shown = {k: v for k, v in {**given, "since": since, "until": until}.items() if v}
    next_url = None
    if found.next_cursor:
        next_url = "/audit?" + urlencode({**shown, "cursor": found.next_cursor})
    return render(
        request, "audit/index.html", who, events=found.items, filters=shown, next_url=next_url
    )


def _time(text: str | None, name: str) -> datetime | None:
    """A time the form gave (``2026-01-31T12:00``, UTC unless it names a zone)."""
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"The '{name}' filter must be a date and time like 2026-01-31T12:00 (UTC). "
            f"Got {text!r} instead.",
            details={name: text},
        ) from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at
