"""What every route takes and gives: the project acting as the caller, a page of a listing,
an ETag'd answer for an object that does not change."""

from __future__ import annotations

import hashlib
import inspect
from dataclasses import dataclass
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel, TypeAdapter
from starlette.responses import Response

from shipyard.catalog.paging import DEFAULT_LIMIT, LISTINGS, MAX_LIMIT, PageQuery
from shipyard.entities import Actor, ApiToken
from shipyard.errors import PermissionDenied
from shipyard.project import Project
from shipyard.security.roles import ALL_ENVIRONMENTS

__all__ = [
    "NAME",
    "NOT_MODIFIED",
    "PAYLOAD",
    "PageOut",
    "PageParams",
    "ProjectDep",
    "etagged",
    "html_page",
    "paging",
    "require_env",
    "tagged",
    "token_of",
]

T = TypeVar("T")

NAME = r"^[A-Za-z][A-Za-z0-9_\-]{0,127}$"
"""What dataset, model, monitor and feature names look like (``catalog.refs``)."""

NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not Modified: the If-None-Match ETag is current."}
}

PAYLOAD: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any])
"""A report's JSON content."""

# A report page runs its own scripts (Plotly); sandboxed, they run in an origin of their own
# and cannot read what the API's origin holds.
_REPORT_HEADERS = {"Content-Security-Policy": "sandbox allow-scripts"}


def token_of(request: Request) -> ApiToken:
    """The token the auth guard accepted for this request."""
    token: ApiToken = request.scope["state"]["token"]
    return token


async def request_project(request: Request) -> Project:
    """The server's project, acting as the caller: the token's name, face ``api``, and the
    client's address go into every audit event the request causes. (Dependencies that do
    no I/O are coroutines: FastAPI runs a plain function in a worker thread, a hop that costs
    more than the work.)"""
    base: Project = request.app.state.project
    client = request.client
    return base.acting_as(Actor(token_of(request).name, "api", client.host if client else None))


ProjectDep = Annotated[Project, Depends(request_project)]


def require_env(request: Request, env: str, action: str) -> None:
    """Refuse unless the caller's token is scoped to ``env`` (or to every environment): a
    change aimed at an environment needs a token of that environment, whichever server
    carries it.

    Raises:
        PermissionDenied: The token is scoped elsewhere.
    """
    token = token_of(request)
    if token.env not in (env, ALL_ENVIRONMENTS):
        raise PermissionDenied(
            f"The token '{token.name}' is scoped to {token.env}; to {action} in {env} use a "
            f"token scoped to {env} (or all).",
            details={"token": token.name, "env": env, "action": action},
        )


class PageOut(BaseModel, Generic[T]):
    """One page of a listing; pass ``next_cursor`` back as ``cursor`` for the next one
    (null: this is the last page)."""

    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class PageParams:
    """The paging parameters of a request: sort, direction, size and cursor."""

    sort: str | None
    order: str | None
    limit: int
    cursor: str | None

    def query(self, **filters: Any) -> PageQuery:
        """The catalog query for this page with ``filters`` (None values are dropped)."""
        descending = None if self.order is None else self.order == "desc"
        return PageQuery(self.sort, descending, self.limit, self.cursor, filters)


def paging(listing: str) -> Any:
    """A dependency reading the paging parameters of ``listing``, its sorts as a pattern."""
    spec = LISTINGS[listing]
    sorts = "|".join(spec.sorts)
    if spec.metric_sorts:
        sorts += r"|metrics\.[A-Za-z0-9_.:\-]{1,128}"
    default = f"{spec.default_sort} {'desc' if spec.descending else 'asc'}"
    sort_help = f"Default: {default}." + (
        " metrics.<key> sorts by a final metric." if spec.metric_sorts else ""
    )

    async def params(sort: Any, order: Any, limit: Any, cursor: Any) -> PageParams:
        return PageParams(sort, order, limit, cursor)

    # The parameters' types hold this listing's sorts, so they are built here, not written
    # as annotations (which this module's future import would leave as unresolvable text).
    keyword = inspect.Parameter.KEYWORD_ONLY
    params.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                "sort",
                keyword,
                default=None,
                annotation=Annotated[
                    str | None, Query(pattern=f"^({sorts})$", description=sort_help)
                ],
            ),
            inspect.Parameter(
                "order",
                keyword,
                default=None,
                annotation=Annotated[Literal["asc", "desc"] | None, Query()],
            ),
            inspect.Parameter(
                "limit",
                keyword,
                default=DEFAULT_LIMIT,
                annotation=Annotated[int, Query(ge=1, le=MAX_LIMIT)],
            ),
            inspect.Parameter(
                "cursor",
                keyword,
                default=None,
                annotation=Annotated[
                    str | None,
                    Query(max_length=4096, description="The next_cursor of the previous page."),
                ],
            ),
        ],
        return_annotation=PageParams,
    )
    return Depends(params)


def etagged(request: Request, value: Any, adapter: TypeAdapter[Any]) -> Response:
    """``value`` as JSON with a strong ETag over its bytes; 304 when ``If-None-Match``
    already holds it."""
    return tagged(request, adapter.dump_json(value), "application/json")


def tagged(request: Request, body: bytes, media_type: str, **headers: str) -> Response:
    """``body`` with a strong ETag; 304 (no body) when the client's copy is current."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    cache = {"ETag": etag, "Cache-Control": "private, no-cache", **headers}
    wanted = request.headers.get("if-none-match", "")
    if wanted.strip() == "*" or etag in (t.strip().removeprefix("W/") for t in wanted.split(",")):
        return Response(status_code=304, headers=cache)
    return Response(body, media_type=media_type, headers=cache)


def html_page(request: Request, page: bytes) -> Response:
    """A stored report's self-contained HTML page, ETag'd and sandboxed."""
    return tagged(request, page, "text/html; charset=utf-8", **_REPORT_HEADERS)
