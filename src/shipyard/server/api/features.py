"""The feature store: entities and feature groups, their definitions and versions."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import TypeAdapter
from starlette.responses import Response

from shipyard.catalog.refs import MAX_VERSION
from shipyard.entities import FeatureDefinition
from shipyard.server._deps import (
    NAME,
    NOT_MODIFIED,
    PageOut,
    PageParams,
    ProjectDep,
    etagged,
    paging,
)
from shipyard.server._routing import needs

router = APIRouter(tags=["features"])

Name = Annotated[str, Path(pattern=NAME)]
Version = Annotated[int, Path(ge=1, le=MAX_VERSION)]
Kind = Literal["groups", "entities"]
_KIND = {"groups": "group", "entities": "entity"}
_DEFINITION = TypeAdapter(FeatureDefinition)


@router.get("/features/{kind}", **needs("read"))
def list_definitions(
    project: ProjectDep,
    kind: Kind,
    page: Annotated[PageParams, paging("feature_groups")],
    prefix: Annotated[str | None, Query(max_length=128)] = None,
) -> PageOut[FeatureDefinition]:
    """The latest version of each feature group (or entity), by name."""
    query = page.query(prefix=prefix)
    found = project.catalog.page_feature_definitions(_KIND[kind], query, latest=True)
    return PageOut(items=found.items, next_cursor=found.next_cursor)


@router.get("/features/{kind}/{name}", **needs("read"))
def get_definition(project: ProjectDep, kind: Kind, name: Name) -> FeatureDefinition:
    """The latest version of a feature group (or entity): its definition as stored."""
    return project.catalog.get_feature_definition(_KIND[kind], name)


@router.get("/features/{kind}/{name}/versions", **needs("read"))
def list_definition_versions(
    project: ProjectDep,
    kind: Kind,
    name: Name,
    page: Annotated[PageParams, paging("feature_versions")],
) -> PageOut[FeatureDefinition]:
    """Every version of a feature group (or entity), newest first."""
    project.catalog.get_feature_definition(_KIND[kind], name)  # 404 with a suggestion
    query = page.query(name=name)
    found = project.catalog.page_feature_definitions(_KIND[kind], query)
    return PageOut(items=found.items, next_cursor=found.next_cursor)


@router.get(
    "/features/{kind}/{name}/versions/{version}",
    response_model=FeatureDefinition,
    **needs("read", extra=NOT_MODIFIED),
)
def get_definition_version(
    request: Request, project: ProjectDep, kind: Kind, name: Name, version: Version
) -> Response:
    """One version of a feature group (or entity) (immutable: ETag)."""
    found = project.catalog.get_feature_definition(_KIND[kind], name, version)
    return etagged(request, found, _DEFINITION)
