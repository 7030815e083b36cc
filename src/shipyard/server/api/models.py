"""Models: versions, aliases, lineage, the evaluation report, the monitoring baseline, and
promotion to an environment."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field, TypeAdapter
from starlette.responses import Response

from shipyard.catalog.refs import MAX_VERSION
from shipyard.entities import ModelVersion, to_json
from shipyard.registry import Lineage
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
    require_env,
)
from shipyard.server._routing import needs

router = APIRouter(tags=["models"])

Name = Annotated[str, Path(pattern=NAME, description="The model's name.")]
Version = Annotated[int, Path(ge=1, le=MAX_VERSION, description="The version number.")]
ALIAS = r"^[a-z][a-z0-9_\-]{0,63}$"
_VERSION = TypeAdapter(ModelVersion)


class PromoteBody(BaseModel):
    environment: Literal["dev", "staging", "prod"] = Field(
        description="The environment whose alias (NAME@ENV) moves to this version."
    )
    force: bool = Field(False, description="Promote although a gate failed (needs a reason).")
    reason: str | None = Field(None, description="Why the override: kept in the audit trail.")


class CommentBody(BaseModel):
    comment: str = Field(min_length=1, max_length=2000, description="Why: kept with the change.")


def _resolve(project: Any, name: str, version: int | None) -> ModelVersion:
    from shipyard.registry import resolve_model

    return resolve_model(project, name if version is None else f"{name}:{version}")


@router.get("/models", **needs("read"))
def list_models(
    project: ProjectDep,
    page: Annotated[PageParams, paging("models")],
    prefix: Annotated[str | None, Query(max_length=128)] = None,
) -> PageOut[ModelVersion]:
    """The latest ready version of each model, with its aliases."""
    found = project.catalog.page_models(page.query(prefix=prefix))
    return PageOut(items=found.items, next_cursor=found.next_cursor)


@router.get("/models/{name}", **needs("read"))
def get_model(project: ProjectDep, name: Name) -> ModelVersion:
    """The latest ready version of a model."""
    return _resolve(project, name, None)


@router.get("/models/{name}/versions", **needs("read"))
def list_model_versions(
    project: ProjectDep,
    name: Name,
    page: Annotated[PageParams, paging("model_versions")],
    include_pending: Annotated[
        bool, Query(description="Also versions whose job still runs or died.")
    ] = False,
    alias: Annotated[str | None, Query(pattern=ALIAS)] = None,
) -> PageOut[ModelVersion]:
    """A model's versions, newest first, with their aliases and status."""
    from shipyard.registry import versions_page

    _resolve(project, name, None)  # an unknown name is a 404 with a suggestion, not []
    query = page.query(name=name, include_pending=include_pending or None, alias=alias)
    found = versions_page(project, query)
    return PageOut(items=found.items, next_cursor=found.next_cursor)


@router.get("/models/{name}/aliases/{alias}", **needs("read"))
def resolve_alias(
    project: ProjectDep, name: Name, alias: Annotated[str, Path(pattern=ALIAS)]
) -> ModelVersion:
    """The version ``NAME@ALIAS`` points at (``fraud@prod``)."""
    from shipyard.registry import resolve_model

    return resolve_model(project, f"{name}@{alias}")


@router.get(
    "/models/{name}/versions/{version}",
    response_model=ModelVersion,
    **needs("read", extra=NOT_MODIFIED),
)
def get_model_version(
    request: Request, project: ProjectDep, name: Name, version: Version
) -> Response:
    """One model version (ETag: its record changes only when an alias moves)."""
    return etagged(request, _resolve(project, name, version), _VERSION)


@router.get("/models/{name}/versions/{version}/lineage", **needs("read"))
def get_lineage(project: ProjectDep, name: Name, version: Version) -> Lineage:
    """Where the version came from (feature groups, dataset, run) and which environments
    serve it, as nodes and edges."""
    from shipyard.registry import lineage_graph

    return lineage_graph(project, _resolve(project, name, version))


@router.get(
    "/models/{name}/versions/{version}/evaluation",
    response_model=dict[str, Any],
    **needs("read", extra=NOT_MODIFIED),
)
def get_evaluation(request: Request, project: ProjectDep, name: Name, version: Version) -> Response:
    """The evaluation report on the version's test rows: metrics with intervals, curves,
    calibration, the threshold's confusion, slices, post-training bias."""
    from shipyard.evaluation import load_evaluation

    return etagged(request, load_evaluation(project, f"{name}:{version}").payload, PAYLOAD)


@router.get(
    "/models/{name}/versions/{version}/evaluation/html",
    response_class=Response,
    **needs("read", extra=NOT_MODIFIED),
)
def get_evaluation_html(
    request: Request, project: ProjectDep, name: Name, version: Version
) -> Response:
    """The evaluation report's self-contained HTML page."""
    from shipyard.evaluation import evaluation_html, load_evaluation

    stored = load_evaluation(project, f"{name}:{version}")
    return html_page(request, evaluation_html(project, stored))


@router.get(
    "/models/{name}/versions/{version}/baseline",
    response_model=dict[str, Any],
    **needs("read", extra=NOT_MODIFIED),
)
def get_baseline(request: Request, project: ProjectDep, name: Name, version: Version) -> Response:
    """The monitoring baseline: input statistics and constraints, the score distribution,
    test metrics, attribution, bias."""
    from shipyard.monitor import load_baseline

    return etagged(request, load_baseline(project, f"{name}:{version}").payload, PAYLOAD)


@router.get(
    "/models/{name}/versions/{version}/baseline/html",
    response_class=Response,
    **needs("read", extra=NOT_MODIFIED),
)
def get_baseline_html(
    request: Request, project: ProjectDep, name: Name, version: Version
) -> Response:
    """The baseline's HTML page."""
    from shipyard.errors import NotFound
    from shipyard.monitor import load_baseline

    stored = load_baseline(project, f"{name}:{version}")
    if not stored.html_uri:
        raise NotFound(f"The baseline of {name}:{version} has no HTML page.")
    return html_page(
        request, project.artifacts.get_bytes(project.artifacts.key_of(stored.html_uri))
    )


@router.post("/models/{name}/versions/{version}/baseline", **needs("register"))
def create_baseline(project: ProjectDep, name: Name, version: Version) -> dict[str, Any]:
    """Make (or remake) the version's baseline from the training data in its lineage."""
    from shipyard.monitor import create_baseline as create

    payload: dict[str, Any] = create(project, f"{name}:{version}").payload
    return payload


@router.post("/models/{name}/versions/{version}/promote", **needs("promote"))
def promote_version(
    request: Request, project: ProjectDep, name: Name, version: Version, body: PromoteBody
) -> dict[str, Any]:
    """Run the environment's gates and point ``NAME@ENVIRONMENT`` at this version: the
    version, each gate's evidence and the outcome; a failed gate is a 409 whose details hold
    every gate's result (``force`` with a ``reason`` overrides it, audited). The token must be
    allowed to promote and be scoped to that environment (a deployer in staging is nobody in
    prod)."""
    from shipyard.registry import promote

    require_env(request, body.environment, "promote")
    result = promote(
        project, f"{name}:{version}", body.environment, force=body.force, reason=body.reason
    )
    answer: dict[str, Any] = to_json(result)
    return answer


@router.get("/models/{name}/versions/{version}/history", **needs("read"))
def version_history(project: ProjectDep, name: Name, version: Version) -> dict[str, Any]:
    """The version, its approval changes and its promotion attempts (each with every gate's
    result), oldest first."""
    from shipyard.registry import model_history

    answer: dict[str, Any] = to_json(model_history(project, f"{name}:{version}"))
    return answer


@router.post("/models/{name}/versions/{version}/approve", **needs("approve"))
def approve_version(
    project: ProjectDep, name: Name, version: Version, body: CommentBody
) -> dict[str, Any]:
    """Approve the version (PendingManualApproval or Rejected -> Approved), with a comment."""
    from shipyard.registry import approve_model

    answer: dict[str, Any] = to_json(
        approve_model(project, f"{name}:{version}", comment=body.comment)
    )
    return answer


@router.post("/models/{name}/versions/{version}/reject", **needs("approve"))
def reject_version(
    project: ProjectDep, name: Name, version: Version, body: CommentBody
) -> dict[str, Any]:
    """Reject the version: it is promoted nowhere until approved again."""
    from shipyard.registry import reject_model

    answer: dict[str, Any] = to_json(
        reject_model(project, f"{name}:{version}", comment=body.comment)
    )
    return answer
