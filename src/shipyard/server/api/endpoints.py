"""Endpoints of an environment: their variants and weights, revisions, and changes (create,
update, roll back, delete). A change needs the ``deploy`` action and a token scoped to the
endpoint's environment."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from shipyard.deploy import EndpointStatus
from shipyard.entities import Endpoint
from shipyard.server._deps import NAME, PageOut, PageParams, ProjectDep, paging, require_env
from shipyard.server._routing import needs

router = APIRouter(tags=["endpoints"])

Env = Annotated[Literal["dev", "staging", "prod"], Path(description="The environment.")]
Name = Annotated[str, Path(pattern=NAME, description="The endpoint's name.")]
VARIANT = r"^[A-Za-z][A-Za-z0-9_\-]{0,127}([:@][A-Za-z0-9_\-]{1,64})?(=\d{1,3})?$"
Variant = Annotated[str, Field(pattern=VARIANT, max_length=220)]
Percent = Annotated[float, Field(ge=0, le=100)]


class CreateBody(BaseModel):
    name: str = Field(pattern=NAME, description="The endpoint's name.")
    variants: list[Variant] = Field(
        min_length=1,
        max_length=16,
        description='Model references with weights: ["fraud:3=90", "fraud:4=10"].',
    )
    shadow: Variant | None = Field(
        None, description='A shadow variant ("fraud:5" or "fraud:5=20").'
    )
    capture: Percent = Field(0.0, description="Share of requests captured, in percent.")
    sticky_key: str | None = Field(
        None, max_length=128, description="The request field that keeps a caller on one variant."
    )
    rollback_on: dict[str, float] | None = Field(
        None, description="Limits that roll a canary back."
    )


class UpdateBody(BaseModel):
    variants: list[Variant] | None = Field(None, min_length=1, max_length=16)
    shadow: Variant | None = Field(None, description="A new shadow variant.")
    no_shadow: bool = Field(False, description="Remove the shadow.")
    capture: Percent | None = None
    sticky_key: str | None = Field(None, max_length=128)
    no_sticky_key: bool = Field(False, description="Remove the sticky key.")
    rollback_on: dict[str, float] | None = None
    canary: Percent | None = Field(None, description="Roll out new variants to this share first.")
    bake: str | None = Field(None, max_length=16, description='How long a canary bakes ("5m").')
    linear: str | None = Field(None, max_length=32, description='Shift by steps ("10%/1m").')


@router.get("/endpoints", **needs("read"))
def list_endpoints(
    project: ProjectDep,
    env: Annotated[Literal["dev", "staging", "prod"], Query(description="The environment.")],
    page: Annotated[PageParams, paging("endpoints")],
    prefix: Annotated[str | None, Query(max_length=128)] = None,
) -> PageOut[Endpoint]:
    """A page of ``env``'s endpoints at their current revision, by name (each environment
    keeps its endpoints in its own catalog)."""
    from shipyard.deploy import endpoints_page

    found = endpoints_page(project, env, page.query(prefix=prefix))
    return PageOut(items=found.items, next_cursor=found.next_cursor)


@router.get("/endpoints/{env}/{name}", **needs("read"))
def get_endpoint(project: ProjectDep, env: Env, name: Name) -> EndpointStatus:
    """An endpoint's revision, its lanes (each variant's weight and the version it serves
    now), its shadow and every earlier revision."""
    from shipyard.deploy import show_endpoint

    return show_endpoint(project, name, env=env)


@router.post("/endpoints/{env}", status_code=201, **needs("deploy"))
def create_endpoint(request: Request, project: ProjectDep, env: Env, body: CreateBody) -> Endpoint:
    """Create an endpoint serving ``variants`` (weights sum to 100)."""
    from shipyard.deploy import create_endpoint as create

    require_env(request, env, "deploy")
    return create(
        project,
        body.name,
        env=env,
        variants=body.variants,
        shadow=body.shadow,
        capture=body.capture,
        sticky_key=body.sticky_key,
        rollback_on=body.rollback_on,
    )


@router.patch("/endpoints/{env}/{name}", **needs("deploy"))
def update_endpoint(
    request: Request, project: ProjectDep, env: Env, name: Name, body: UpdateBody
) -> Endpoint:
    """Change an endpoint: what is given replaces what it had; new variants roll out at
    once, or behind a ``canary`` (with ``bake``) or ``linear`` guardrail."""
    from shipyard.deploy import KEEP
    from shipyard.deploy import update_endpoint as update

    require_env(request, env, "deploy")
    changes: dict[str, Any] = {
        "shadow": None if body.no_shadow else (body.shadow or KEEP),
        "sticky_key": None if body.no_sticky_key else (body.sticky_key or KEEP),
    }
    return update(
        project,
        name,
        env=env,
        variants=body.variants,
        capture=body.capture,
        rollback_on=body.rollback_on,
        canary=body.canary,
        bake=body.bake,
        linear=body.linear,
        **changes,
    )


@router.post("/endpoints/{env}/{name}/rollback", **needs("deploy"))
def rollback_endpoint(request: Request, project: ProjectDep, env: Env, name: Name) -> Endpoint:
    """Restore the configuration before the current one (409 when there is none)."""
    from shipyard.deploy import rollback_endpoint as rollback

    require_env(request, env, "deploy")
    return rollback(project, name, env=env)


@router.delete("/endpoints/{env}/{name}", **needs("deploy"))
def delete_endpoint(request: Request, project: ProjectDep, env: Env, name: Name) -> Endpoint:
    """Delete an endpoint and its history (the audit trail keeps it); its last revision."""
    from shipyard.deploy import delete_endpoint as delete

    require_env(request, env, "deploy")
    return delete(project, name, env=env)
