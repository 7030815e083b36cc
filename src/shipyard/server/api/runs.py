"""Experiments, runs and trials (a trial is a run whose ``parent`` is its AutoML job's run),
with their learning curves; comparing runs side by side."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from shipyard.catalog.paging import ExperimentSummary
from shipyard.entities import Run
from shipyard.server._deps import PageOut, PageParams, ProjectDep, paging
from shipyard.server._routing import needs

router = APIRouter(tags=["runs"])

RUN_ID = r"^[0-9a-f]{6,32}$"
RunId = Annotated[str, Path(pattern=RUN_ID, description="A run id, or a unique prefix of 6+.")]
Filter = Annotated[str | None, Query(max_length=256)]
Points = Sequence[tuple[int, float | None]]


class RunDetailOut(BaseModel):
    run: Run
    curves: Mapping[str, Points] = Field(description="Learning curves: [step, value] per key.")


class Comparison(BaseModel):
    runs: list[Run]
    splits: list[dict[str, Any] | None] = Field(
        description="How each run's table was split (a trial's is its job's), in order."
    )


@router.get("/experiments", **needs("read"))
def list_experiments(
    project: ProjectDep,
    page: Annotated[PageParams, paging("experiments")],
    prefix: Annotated[str | None, Query(max_length=128)] = None,
) -> PageOut[ExperimentSummary]:
    """Experiments (one per model name) with their count of runs and latest start."""
    found = project.catalog.page_experiments(page.query(prefix=prefix))
    return PageOut(items=found.items, next_cursor=found.next_cursor)


@router.get("/runs", **needs("read"))
def list_runs(
    project: ProjectDep,
    page: Annotated[PageParams, paging("runs")],
    experiment: Filter = None,
    status: Annotated[Literal["running", "finished", "failed"] | None, Query()] = None,
    kind: Annotated[
        str | None, Query(max_length=64, description="automl, single or trial.")
    ] = None,
    parent: Annotated[
        str | None, Query(pattern=RUN_ID, description="The trials of this job's run.")
    ] = None,
    created_by: Filter = None,
) -> PageOut[Run]:
    """Runs, newest first by default; sort by a final metric with ``sort=metrics.<key>``
    (runs without it last), filter by experiment, status, kind, parent job or author."""
    from shipyard.tracking import runs_page

    query = page.query(
        experiment=experiment, status=status, kind=kind, parent=parent, created_by=created_by
    )
    found = runs_page(project, query)
    return PageOut(items=found.items, next_cursor=found.next_cursor)


@router.get("/runs/compare", **needs("read"))
def compare_runs(
    project: ProjectDep,
    ids: Annotated[
        list[Annotated[str, Query(pattern=RUN_ID)]],
        Query(min_length=2, max_length=10, description="2 to 10 run ids."),
    ],
) -> Comparison:
    """Runs side by side, in the order given, with each one's split."""
    from shipyard.tracking import compare_runs as compare
    from shipyard.tracking import split_of

    found = compare(project, ids)
    return Comparison(runs=found, splits=[split_of(project, r) for r in found])


@router.get("/runs/{run_id}", **needs("read"))
def get_run(project: ProjectDep, run_id: RunId) -> RunDetailOut:
    """A run with its learning curves (train_loss, valid_loss)."""
    from shipyard.tracking import get_run as get

    detail = get(project, run_id)
    return RunDetailOut(run=detail.run, curves=detail.curves)


@router.get("/runs/{run_id}/metrics/{key}", **needs("read"))
def get_metric_history(
    project: ProjectDep,
    run_id: RunId,
    key: Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:\-]{1,128}$")],
) -> Points:
    """The [step, value] points logged for one metric of a run, in step order."""
    return project.catalog.metric_history(run_id, key)
