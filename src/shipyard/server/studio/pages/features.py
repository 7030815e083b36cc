"""Features: feature groups a page at a time, a group's definition and versions, how fresh
its events are, and an online-against-offline skew check run on demand."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from starlette.responses import Response

from shipyard.catalog.paging import PageQuery
from shipyard.server.studio._auth import Viewer, viewer
from shipyard.server.studio._render import render

router = APIRouter()

NAME = r"^[A-Za-z][A-Za-z0-9_\-]{0,127}$"
PAGE = 25
"""Groups and versions per page."""
Who = Annotated[Viewer, Depends(viewer)]
Name = Annotated[str, Path(pattern=NAME)]
Cursor = Annotated[str | None, Query(max_length=4096)]


@router.get("/features", include_in_schema=False)
def groups(
    request: Request,
    who: Who,
    prefix: Annotated[str | None, Query(max_length=128)] = None,
    cursor: Cursor = None,
) -> Response:
    query = PageQuery(limit=PAGE, cursor=cursor, filters={"prefix": prefix or None})
    found = who.project.catalog.page_feature_definitions("group", query, latest=True)
    base = f"/features?prefix={prefix or ''}"
    return render(
        request,
        "features/index.html",
        who,
        groups=found.items,
        prefix=prefix or "",
        next_url=f"{base}&cursor={found.next_cursor}" if found.next_cursor else None,
    )


@router.get("/features/{name}", include_in_schema=False)
def group(request: Request, who: Who, name: Name, cursor: Cursor = None) -> Response:
    from shipyard.errors import ShipyardError
    from shipyard.features import group_freshness

    catalog = who.project.catalog
    latest = catalog.get_feature_definition("group", name)
    query = PageQuery(limit=PAGE, cursor=cursor, filters={"name": name})
    versions = catalog.page_feature_definitions("group", query)
    freshness, problem = None, None
    try:
        freshness = group_freshness(who.project, name)
    except ShipyardError as exc:  # the definition still shows; say why freshness cannot
        problem = str(exc)
    return render(
        request,
        "features/group.html",
        who,
        latest=latest,
        features=[_feature_row(f) for f in latest.definition.get("features", [])],
        versions=versions.items,
        next_url=f"/features/{name}?cursor={versions.next_cursor}"
        if versions.next_cursor
        else None,
        freshness=freshness,
        problem=problem,
    )


@router.post("/features/{name}/skew", include_in_schema=False)
def skew(
    request: Request,
    who: Who,
    name: Name,
    sample: Annotated[int, Form(ge=1, le=10_000)] = 500,
) -> Response:
    from shipyard.features import check_skew

    report = check_skew(who.project, name, sample=sample)
    return render(request, "features/_skew.html", who, report=report)


def _feature_row(feature: dict[str, Any]) -> tuple[str, str, str]:
    """A stored feature as (name, kind, what it computes)."""
    name = str(feature.get("name", ""))
    kind = str(feature.get("kind") or ("derived" if "expression" in feature else "column"))
    if kind == "derived":
        return name, kind, str(feature.get("expression", ""))
    if kind == "aggregate":
        column = feature.get("column") or "*"
        what = f"{feature.get('function')}({column}) over {feature.get('window')}"
        if feature.get("filter"):
            what += f" where {feature['filter']}"
        return name, kind, what
    return name, kind, str(feature.get("column") or name)
