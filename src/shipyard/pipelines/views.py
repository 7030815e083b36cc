"""What a face shows of pipelines: a page of a pipeline's runs, and a run's DAG as nodes and
edges, each step with its status and timing (drawn by Studio, served by the REST API)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shipyard.catalog.paging import Page, PageQuery
from shipyard.entities import PipelineRun, PipelineStep
from shipyard.errors import InvalidInput, NotFound
from shipyard.pipelines._load import load_named
from shipyard.pipelines._spec import Parameter, parse_reference
from shipyard.pipelines.runs import PipelineSummary, fail_dead_pipeline_runs
from shipyard.project import Project

__all__ = [
    "GraphEdge",
    "GraphNode",
    "RunForm",
    "RunGraph",
    "pipeline_runs_page",
    "pipelines_page",
    "run_form",
    "run_graph",
]


@dataclass(frozen=True)
class GraphNode:
    """A step of a run: its kind (or function), its layer (0 runs first; steps of one layer
    can run at once), its status, whether its outputs were reused, and its timing."""

    step: str
    kind: str
    layer: int
    status: str
    cached: bool
    attempts: int
    started_at: datetime | None
    ended_at: datetime | None
    seconds: float | None
    error: str | None


@dataclass(frozen=True)
class GraphEdge:
    """``source`` runs before ``target`` (``target`` reads its outputs, waits for it, or is
    guarded by its condition)."""

    source: str
    target: str


@dataclass(frozen=True)
class RunGraph:
    """A run and its pipeline version's DAG, every step with its status in that run."""

    run: PipelineRun
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]


@dataclass(frozen=True)
class RunForm:
    """What starting a run of a pipeline asks for: its parameters (name, type, default,
    required) as the pipeline is written now, or why it cannot start (``problem``)."""

    pipeline: str
    parameters: tuple[Parameter, ...]
    problem: str | None = None


def run_form(project: Project, name: str) -> RunForm:
    """The parameters a new run of pipeline ``name`` takes (what
    :func:`~shipyard.pipelines.start_in_background` checks them against); a pipeline that
    cannot start (its file is gone or invalid) gives why as ``problem`` instead of raising,
    so a page can still show its runs."""
    try:
        spec = load_named(project, name)
    except (InvalidInput, NotFound) as exc:
        return RunForm(name, (), exc.message)
    return RunForm(spec.name, spec.parameters)


def pipelines_page(project: Project, query: PageQuery) -> Page[PipelineSummary]:
    """One page of the registered pipelines (listing ``pipelines``: the latest version of
    each, by name), each with its latest run and its schedule."""
    fail_dead_pipeline_runs(project)
    found = project.catalog.page_pipelines(query)
    names = {d.name for d in found.items}
    schedules = {s.pipeline: s for s in project.catalog.list_schedules() if s.pipeline in names}
    items = []
    for definition in found.items:
        runs = project.catalog.list_pipeline_runs(definition.name, limit=1)
        items.append(
            PipelineSummary(definition, runs[0] if runs else None, schedules.get(definition.name))
        )
    return Page(items, found.next_cursor)


def pipeline_runs_page(project: Project, name: str | None, query: PageQuery) -> Page[PipelineRun]:
    """One page of the runs of pipeline ``name`` (of every pipeline when None), newest first
    (``pipeline_runs`` in :data:`~shipyard.catalog.paging.LISTINGS`; its ``status`` filter
    applies).

    Raises:
        NotFound: No pipeline has that name (a close one is suggested).
        InvalidInput: A bad sort, filter, limit or cursor.
    """
    fail_dead_pipeline_runs(project)
    if name is None:
        return project.catalog.page_pipeline_runs(query)
    project.catalog.get_pipeline(name)
    filters = {**query.filters, "pipeline": name}
    return project.catalog.page_pipeline_runs(
        PageQuery(query.sort, query.descending, query.limit, query.cursor, filters)
    )


def run_graph(project: Project, run_id: str) -> RunGraph:
    """The DAG of run ``run_id`` (an id or a unique prefix of 6+ characters), as its
    pipeline's version was written, each step with its status in the run.

    Raises:
        NotFound: No run has that id.
    """
    fail_dead_pipeline_runs(project)
    run = project.catalog.get_pipeline_run(run_id)
    definition = project.catalog.get_pipeline(run.pipeline, run.version).definition
    steps = {s.step: s for s in project.catalog.list_pipeline_steps(run.id)}
    written = definition.get("steps", [])
    deps = _dependencies(written)
    layers = _layers(deps)
    nodes = tuple(
        _node(spec, layers.get(spec["name"], 0), steps.get(spec["name"])) for spec in written
    )
    edges = tuple(GraphEdge(d, name) for name, ds in deps.items() for d in sorted(ds))
    return RunGraph(run, nodes, edges)


def _dependencies(written: Sequence[Mapping[str, Any]]) -> dict[str, set[str]]:
    names = {s["name"] for s in written}
    out: dict[str, set[str]] = {}
    for spec in written:
        found: set[str] = set(spec.get("after", []))
        for text in [*spec.get("inputs", {}).values(), spec.get("when")]:
            ref = parse_reference(text)
            if ref is not None and ref.step:
                found.add(ref.step)
        out[spec["name"]] = {d for d in found if d in names and d != spec["name"]}
    return out


def _layers(deps: Mapping[str, set[str]]) -> dict[str, int]:
    """Each step's longest distance from a step with no dependency (the DAG was checked
    acyclic when the version was registered)."""
    layer: dict[str, int] = {}

    def depth(name: str, seen: frozenset[str]) -> int:
        if name not in layer:
            parents = [d for d in deps.get(name, ()) if d not in seen]
            layer[name] = 1 + max((depth(d, seen | {name}) for d in parents), default=-1)
        return layer[name]

    for name in deps:
        depth(name, frozenset())
    return layer


def _node(spec: Mapping[str, Any], layer: int, step: PipelineStep | None) -> GraphNode:
    kind = spec.get("kind") or f"{str(spec.get('function', '')).rsplit(':', 1)[-1]}()"
    if step is None:  # a step the run does not have (it cannot: the version is the same)
        return GraphNode(spec["name"], kind, layer, "pending", False, 0, None, None, None, None)
    return GraphNode(
        step=step.step,
        kind=kind,
        layer=layer,
        status=step.status,
        cached=step.status == "cached",
        attempts=step.attempts,
        started_at=step.started_at,
        ended_at=step.ended_at,
        seconds=step.seconds,
        error=step.error,
    )
