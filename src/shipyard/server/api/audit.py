"""The audit trail: who changed what, when, from which face and address; its hash chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel

from shipyard.entities import AuditEvent
from shipyard.server._deps import PageOut, PageParams, ProjectDep, paging
from shipyard.server._routing import needs

router = APIRouter(tags=["audit"])

Text = Annotated[str | None, Query(max_length=256)]


class ChainBreakOut(BaseModel):
    position: int
    event_id: int | None
    reason: str


class ChainOut(BaseModel):
    ok: bool
    events: int
    head: str | None
    breaks: list[ChainBreakOut]


@router.get("/audit", **needs("audit"))
def list_events(
    project: ProjectDep,
    page: Annotated[PageParams, paging("events")],
    actor: Text = None,
    action: Annotated[
        str | None, Query(max_length=64, description="An action or its prefix (model.).")
    ] = None,
    object_type: Text = None,
    object_id: Text = None,
    face: Annotated[str | None, Query(max_length=16)] = None,
    since: Annotated[AwareDatetime | None, Query(description="From this time on.")] = None,
    until: Annotated[AwareDatetime | None, Query(description="Before this time.")] = None,
) -> PageOut[AuditEvent]:
    """Audit events, newest first, filtered by who, what, object and time."""
    query = page.query(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        face=face,
        since=since,
        until=until,
    )
    found = project.catalog.page_events(query)
    return PageOut(items=found.items, next_cursor=found.next_cursor)


@router.get("/audit/verify", **needs("audit"))
def verify_chain(project: ProjectDep) -> ChainOut:
    """Walk the hash chain from its first event; every break is listed with where it is."""
    from shipyard.security import verify_audit

    report = verify_audit(project)
    breaks = [
        ChainBreakOut(position=b.position, event_id=b.event_id, reason=b.reason)
        for b in report.breaks
    ]
    return ChainOut(ok=report.ok, events=report.events, head=report.head, breaks=breaks)
