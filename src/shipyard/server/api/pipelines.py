"""Pipelines: their runs (a page at a time), a run with its steps and its DAG, and starting
or resuming a run, which answers 202 with the run's id while its steps run on the server."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from shipyard.entities import PipelineRun, PipelineStep
from shipyard.pipelines import PipelineSummary, RunGraph
from shipyard.server._deps import NAME, PageOut, PageParams, ProjectDep, paging
from shipyard.server._routing import needs

router = APIRouter(tags=["pipelines"])

Name = Annotated[str, Path(pattern=NAME, description="The pipeline's name.")]
RunId = Annotated[
    str, Path(pattern=r"^[0-9a-f]{6,32}$", description="A run id, or a unique prefix of 6+.")
]


class StepOut(BaseModel):
    step: str
    position: int
    status: str = Field(
        description="pending, running, finished, cached, skipped, failed, cancelled"
    )
    cached: bool = Field(description="Its outputs were reused from the run cached_from.")
    attempts: int
    started_at: datetime | None
    ended_at: datetime | None
    seconds: float | None
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    logs: str
    error: str | None
    cached_from: str | None
    cache_key: str | None

    @classmethod
    def of(cls, s: PipelineStep) -> StepOut:
        return cls(
            step=s.step, position=s.position, status=s.status, cached=s.status == "cached",
            attempts=s.attempts, started_at=s.started_at, ended_at=s.ended_at,
            seconds=s.seconds, inputs=s.inputs, outputs=s.outputs, logs=s.logs, error=s.error,
            cached_from=s.cached_from, cache_key=s.cache_key,
        )  # fmt: skip


class RunOut(BaseModel):
    run: PipelineRun
    steps: list[StepOut]


class StartBody(BaseModel):
    params: dict[str, Any] = Field(
        default_factory=dict, description="Values of the pipeline's parameters, by name."
    )


class Started(BaseModel):
    id: str = Field(description="The new run's id: follow it at /pipeline-runs/{id}.")
    run: PipelineRun


@router.get("/pipelines", **needs("read"))
def list_pipelines(
    project: ProjectDep,
    page: Annotated[PageParams, paging("pipelines")],
    prefix: Annotated[str | None, Query(max_length=128)] = None,
) -> PageOut[PipelineSummary]:
    """Registered pipelines, a page at a time, by name: each with its latest version, latest
    run and schedule."""
    from shipyard.pipelines import pipelines_page

    found = pipelines_page(project, page.query(prefix=prefix))
    return PageOut(items=found.items, next_cursor=found.next_cursor)


@router.get("/pipelines/{name}/runs", **needs("read"))
def list_pipeline_runs(
    project: ProjectDep,
    name: Name,
    page: Annotated[PageParams, paging("pipeline_runs")],
    status: Annotated[Literal["running", "finished", "failed"] | None, Query()] = None,
) -> PageOut[PipelineRun]:
    """A pipeline's runs, newest first."""
    from shipyard.pipelines import pipeline_runs_page

    found = pipeline_runs_page(project, name, page.query(status=status))
    return PageOut(items=found.items, next_cursor=found.next_cursor)


@router.post("/pipelines/{name}/runs", status_code=202, **needs("pipeline"))
def start_pipeline_run(project: ProjectDep, name: Name, body: StartBody) -> Started:
    """Start a run with ``params``: checked now (404 for an unknown pipeline, 422 for a bad
    parameter), then run on the server; answers 202 at once with the run's id."""
    from shipyard.pipelines import start_in_background

    run = start_in_background(project, name, body.params)
    return Started(id=run.id, run=run)


@router.get("/pipeline-runs/{run_id}", **needs("read"))
def get_pipeline_run(project: ProjectDep, run_id: RunId) -> RunOut:
    """A run and its steps: status, timing, cached or not, logs and errors."""
    from shipyard.pipelines import show_pipeline_run

    found = show_pipeline_run(project, run_id)
    return RunOut(run=found.run, steps=[StepOut.of(s) for s in found.steps])


@router.get("/pipeline-runs/{run_id}/graph", **needs("read"))
def get_pipeline_run_graph(project: ProjectDep, run_id: RunId) -> RunGraph:
    """The run's DAG: nodes (each step's kind, layer, status, timing) and edges."""
    from shipyard.pipelines import run_graph

    return run_graph(project, run_id)


@router.post("/pipeline-runs/{run_id}/resume", status_code=202, **needs("pipeline"))
def resume_pipeline_run(project: ProjectDep, run_id: RunId) -> Started:
    """Resume a failed run as a new run from the step that failed (409 when the run is
    still running or finished); answers 202 at once with the new run's id."""
    from shipyard.pipelines import resume_in_background

    run = resume_in_background(project, run_id)
    return Started(id=run.id, run=run)
