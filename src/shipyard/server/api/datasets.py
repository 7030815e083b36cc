"""Datasets: versions, schema, a sample, and their profile, quality and bias reports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field, TypeAdapter
from starlette.responses import Response

from shipyard.analyze import dataset_report
from shipyard.catalog.paging import ReportSummary
from shipyard.catalog.refs import MAX_VERSION
from shipyard.entities import DatasetVersion
from shipyard.errors import NotFound
from shipyard.jsonable import strict_json
from shipyard.server._deps import (
    NAME,
    NOT_MODIFIED,
    PAYLOAD,
    PageOut,
    PageParams,
    ProjectDep,
    etagged,
    html_page,
    paging,
)
from shipyard.server._routing import needs

router = APIRouter(tags=["datasets"])

Name = Annotated[str, Path(pattern=NAME, description="The dataset's name.")]
Version = Annotated[int, Path(ge=1, le=MAX_VERSION, description="The version number.")]
Kind = Annotated[
    str,
    Path(pattern=r"^[A-Za-z0-9_:@.\-]{1,200}$", description="profile, check, bias:LABEL:FACET."),
]
_VERSION = TypeAdapter(DatasetVersion)


class Column(BaseModel):
    name: str
    type: str
    pii: str | None = Field(description="The PII kind when the column is tagged, else null.")


class Schema(BaseModel):
    dataset: str
    columns: list[Column]


class ResultColumn(BaseModel):
    name: str
    type: str = Field(description="The Arrow type of its values.")


class Rows(BaseModel):
    """Rows of a table: ``columns`` name them, each row lists values in that order."""

    columns: list[ResultColumn]
    rows: list[list[Any]]
    truncated: bool = Field(description="More rows exist than were returned.")


class ReportInfo(BaseModel):
    kind: str
    created_by: str
    created_at: datetime
    html: str | None = Field(description="The API path of its HTML page, if it has one.")


class ProfileBody(BaseModel):
    target: str | None = Field(None, max_length=256, description="Label column.")
    label_time: str | None = Field(None, max_length=256, description="Label time column.")
    refresh: bool = Field(False, description="Recompute even when a profile is stored.")


class CheckBody(BaseModel):
    against: str | None = Field(
        None, max_length=200, description="A baseline NAME@N to infer the rules from."
    )
    constraints: str | None = Field(
        None, max_length=1_000_000, description="The rules as YAML text (a constraints file)."
    )


class BiasBody(BaseModel):
    label: str = Field(max_length=256)
    positive: str | int | float | bool = Field(description="The favourable label value.")
    facet: str = Field(max_length=256)
    facet_values: list[str | int | float | bool] | None = Field(None, max_length=100)
    threshold: float | None = None
    group: str | None = Field(None, max_length=256)


_SCHEMA = TypeAdapter(Schema)
_ROWS = TypeAdapter(Rows)


class StoredReportOut(BaseModel):
    dataset: str
    kind: str
    reused: bool = False
    report: dict[str, Any]


def _version(project: Any, name: str, version: int | None) -> DatasetVersion:
    found: DatasetVersion = project.catalog.get_dataset_version(name, version)
    return found


def _reports_path(ref: DatasetVersion) -> str:
    return f"/api/v1/datasets/{ref.name}/versions/{ref.version}/reports"


@router.get("/datasets", **needs("read"))
def list_datasets(
    project: ProjectDep,
    page: Annotated[PageParams, paging("datasets")],
    prefix: Annotated[str | None, Query(max_length=128)] = None,
) -> PageOut[DatasetVersion]:
    """The latest version of each dataset."""
    found = project.catalog.page_datasets(page.query(prefix=prefix))
    return PageOut(items=found.items, next_cursor=found.next_cursor)


@router.get("/datasets/{name}", **needs("read"))
def get_dataset(project: ProjectDep, name: Name) -> DatasetVersion:
    """The latest version of a dataset."""
    return _version(project, name, None)


@router.get("/datasets/{name}/versions", **needs("read"))
def list_dataset_versions(
    project: ProjectDep, name: Name, page: Annotated[PageParams, paging("dataset_versions")]
) -> PageOut[DatasetVersion]:
    """Every version of a dataset, newest first."""
    _version(project, name, None)  # an unknown name is a 404 with a suggestion, not []
    found = project.catalog.page_dataset_versions(page.query(name=name))
    return PageOut(items=found.items, next_cursor=found.next_cursor)


@router.get(
    "/datasets/{name}/versions/{version}",
    response_model=DatasetVersion,
    **needs("read", extra=NOT_MODIFIED),
)
def get_dataset_version(
    request: Request, project: ProjectDep, name: Name, version: Version
) -> Response:
    """One dataset version (immutable: ETag, If-None-Match answers 304)."""
    return etagged(request, _version(project, name, version), _VERSION)


@router.get(
    "/datasets/{name}/versions/{version}/schema",
    response_model=Schema,
    **needs("read", extra=NOT_MODIFIED),
)
def get_dataset_schema(
    request: Request, project: ProjectDep, name: Name, version: Version
) -> Response:
    """A version's columns, with the PII kind of each tagged one."""
    from shipyard.security.pii import pii_columns

    found = _version(project, name, version)
    tagged_columns = pii_columns(project, found.ref)
    columns = [
        Column(name=c.name, type=c.type, pii=tagged_columns.get(c.name)) for c in found.columns
    ]
    return etagged(request, Schema(dataset=found.ref, columns=columns), _SCHEMA)


@router.get(
    "/datasets/{name}/versions/{version}/sample",
    response_model=Rows,
    **needs("read", extra=NOT_MODIFIED),
)
def get_dataset_sample(
    request: Request,
    project: ProjectDep,
    name: Name,
    version: Version,
    rows: Annotated[int, Query(ge=0, le=1000, description="How many rows.")] = 20,
) -> Response:
    """The first rows of a version."""
    from shipyard.lake import query, quote_ident

    found = _version(project, name, version)
    table = query(project, f"SELECT * FROM {quote_ident(found.ref)}", limit=rows + 1)
    return etagged(request, table_rows(table, rows), _ROWS)


def table_rows(table: Any, limit: int) -> Rows:
    """An Arrow table as :class:`Rows` (strict JSON values), cut at ``limit`` rows."""
    shown = table.slice(0, limit)
    columns = [strict_json(c.to_pylist()) for c in shown.columns]
    return Rows(
        columns=[ResultColumn(name=f.name, type=str(f.type)) for f in shown.schema],
        rows=[list(r) for r in zip(*columns, strict=True)],
        truncated=table.num_rows > limit,
    )


@router.get("/datasets/{name}/versions/{version}/reports", **needs("read"))
def list_dataset_reports(project: ProjectDep, name: Name, version: Version) -> list[ReportInfo]:
    """The reports stored about a version (profile, check, bias:LABEL:FACET)."""
    found = _version(project, name, version)
    summaries: list[ReportSummary] = project.catalog.list_reports(found.ref)
    base = _reports_path(found)
    return [
        ReportInfo(
            kind=s.kind,
            created_by=s.created_by,
            created_at=s.created_at,
            html=f"{base}/{s.kind}/html" if s.html_uri else None,
        )
        for s in summaries
    ]


@router.get(
    "/datasets/{name}/versions/{version}/reports/{kind}",
    response_model=dict[str, Any],
    **needs("read", extra=NOT_MODIFIED),
)
def get_dataset_report(
    request: Request, project: ProjectDep, name: Name, version: Version, kind: Kind
) -> Response:
    """A stored report's content (ETag: it changes only when the report is made again)."""
    return etagged(request, dataset_report(project, name, version, kind).payload, PAYLOAD)


@router.get(
    "/datasets/{name}/versions/{version}/reports/{kind}/html",
    response_class=Response,
    **needs("read", extra=NOT_MODIFIED),
)
def get_dataset_report_html(
    request: Request, project: ProjectDep, name: Name, version: Version, kind: Kind
) -> Response:
    """A stored report's self-contained HTML page."""
    report = dataset_report(project, name, version, kind)
    if not report.html_uri:
        raise NotFound(f"The {kind!r} report of {name}@{version} has no HTML page.")
    page = project.artifacts.get_bytes(project.artifacts.key_of(report.html_uri))
    return html_page(request, page)


@router.post("/datasets/{name}/versions/{version}/profile", **needs("ingest"))
def profile_dataset_version(
    project: ProjectDep, name: Name, version: Version, body: ProfileBody
) -> StoredReportOut:
    """Profile a version (or return the stored profile, unless ``refresh``)."""
    from shipyard.analyze import profile_dataset

    report = profile_dataset(
        project, f"{name}@{version}", target=body.target, label_time=body.label_time,
        refresh=body.refresh,
    )  # fmt: skip
    kind = "profile" + (f":{body.target}" if body.target else "")
    kind += f"@{body.label_time}" if body.label_time else ""
    return StoredReportOut(
        dataset=report.dataset.ref, kind=kind, reused=report.reused, report=report.payload
    )


@router.post("/datasets/{name}/versions/{version}/check", **needs("ingest"))
def check_dataset_version(
    project: ProjectDep, name: Name, version: Version, body: CheckBody
) -> StoredReportOut:
    """Check a version against data-quality rules (YAML text, or inferred from a baseline)."""
    from shipyard.analyze import check_dataset

    found, report = check_dataset(
        project, f"{name}@{version}", against=body.against, rules=body.constraints
    )
    return StoredReportOut(dataset=found.ref, kind="check", report=report)


@router.post("/datasets/{name}/versions/{version}/bias", **needs("ingest"))
def bias_dataset_version(
    project: ProjectDep, name: Name, version: Version, body: BiasBody
) -> StoredReportOut:
    """Pre-training bias metrics (SageMaker Clarify's) of a version, stored."""
    from shipyard.analyze import bias_dataset

    report = bias_dataset(
        project,
        f"{name}@{version}",
        label=body.label,
        positive=body.positive,
        facet=body.facet,
        facet_values=body.facet_values,
        threshold=body.threshold,
        group=body.group,
    )
    kind = f"bias:{body.label}:{body.facet}"
    return StoredReportOut(dataset=report.dataset.ref, kind=kind, report=report.payload)
