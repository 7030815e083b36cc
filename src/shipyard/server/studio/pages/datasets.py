"""Datasets: each dataset's versions (a page at a time), a version's schema, first rows and
stored reports (profile, quality check, bias) shown inside Studio, and a SQL box over every
dataset (read-only: the lake refuses a query that writes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from starlette.responses import HTMLResponse, Response

from shipyard.analyze import dataset_report
from shipyard.catalog.paging import PageQuery
from shipyard.catalog.refs import MAX_VERSION
from shipyard.entities import DatasetVersion
from shipyard.errors import NotFound
from shipyard.server.studio._auth import Viewer, viewer
from shipyard.server.studio._render import PLOTLY_URL, render
from shipyard.server.studio._report import studio_page

router = APIRouter()

NAME = r"^[A-Za-z][A-Za-z0-9_\-]{0,127}$"
PAGE = 25
"""Datasets and versions per page."""
SAMPLE = 20
"""Rows a version's page shows."""
SQL_ROWS = 200
"""Most rows the SQL box shows (the server's own cap applies too)."""
Who = Annotated[Viewer, Depends(viewer)]
Name = Annotated[str, Path(pattern=NAME)]
Version = Annotated[int, Path(ge=1, le=MAX_VERSION)]
Kind = Annotated[str, Path(pattern=r"^[A-Za-z0-9_:@.\-]{1,200}$")]
Cursor = Annotated[str | None, Query(max_length=4096)]
# A stored report runs its own scripts: in a sandboxed frame they run in an origin of their
# own and cannot read Studio's.
_SANDBOX = {"Content-Security-Policy": "sandbox allow-scripts"}


@router.get("/datasets", include_in_schema=False)
def datasets(
    request: Request,
    who: Who,
    prefix: Annotated[str | None, Query(max_length=128)] = None,
    cursor: Cursor = None,
) -> Response:
    query = PageQuery(limit=PAGE, cursor=cursor, filters={"prefix": prefix or None})
    found = who.project.catalog.page_datasets(query)
    base = f"/datasets?prefix={prefix or ''}"
    return render(
        request,
        "datasets/index.html",
        who,
        datasets=found.items,
        prefix=prefix or "",
        next_url=f"{base}&cursor={found.next_cursor}" if found.next_cursor else None,
    )


@router.post("/datasets/-/sql", include_in_schema=False)
def sql(
    request: Request, who: Who, query: Annotated[str, Form(min_length=1, max_length=100_000)]
) -> Response:
    from shipyard.lake import query as run_query
    from shipyard.server.api.datasets import table_rows

    limit = min(SQL_ROWS, who.project.settings.server_max_sql_rows)
    rows = table_rows(run_query(who.project, query, limit=limit + 1), limit)
    return render(request, "datasets/_sql.html", who, rows=rows)


@router.get("/datasets/{name}", include_in_schema=False)
def versions(request: Request, who: Who, name: Name, cursor: Cursor = None) -> Response:
    latest = who.project.catalog.get_dataset_version(name, None)
    query = PageQuery(limit=PAGE, cursor=cursor, filters={"name": name})
    found = who.project.catalog.page_dataset_versions(query)
    return render(
        request,
        "datasets/versions.html",
        who,
        latest=latest,
        versions=found.items,
        next_url=f"/datasets/{name}?cursor={found.next_cursor}" if found.next_cursor else None,
    )


@router.get("/datasets/{name}/{version}", include_in_schema=False)
def version(request: Request, who: Who, name: Name, version: Version) -> Response:
    from shipyard.security.pii import pii_columns
    from shipyard.server.api.datasets import table_rows

    project = who.project
    found: DatasetVersion = project.catalog.get_dataset_version(name, version)
    sample = project.lake.head(found, SAMPLE + 1)
    return render(
        request,
        "datasets/version.html",
        who,
        ds=found,
        pii=pii_columns(project, found.ref),
        sample=table_rows(sample, SAMPLE),
        reports=project.catalog.list_reports(found.ref),
    )


@router.get("/datasets/{name}/{version}/reports/{kind}", include_in_schema=False)
def report(request: Request, who: Who, name: Name, version: Version, kind: Kind) -> Response:
    found = dataset_report(who.project, name, version, kind)
    return render(request, "datasets/report.html", who, ds_ref=f"{name}@{version}", report=found)


@router.get("/datasets/{name}/{version}/reports/{kind}/page", include_in_schema=False)
def report_page(who: Who, name: Name, version: Version, kind: Kind) -> Response:
    stored = dataset_report(who.project, name, version, kind)
    if not stored.html_uri:
        raise NotFound(f"The {kind!r} report of {name}@{version} has no HTML page.")
    artifacts = who.project.artifacts
    html = artifacts.get_bytes(artifacts.key_of(stored.html_uri)).decode("utf-8")
    return HTMLResponse(studio_page(html, PLOTLY_URL), headers=_SANDBOX)
