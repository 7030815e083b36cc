"""Pipelines: each pipeline's runs (a page at a time), starting a run with its parameters, a
run's DAG drawn with each step's status (inline SVG, no script), its steps' timing and logs,
and resuming a failed run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from shipyard.catalog.paging import PageQuery
from shipyard.errors import InvalidInput
from shipyard.pipelines import RunGraph
from shipyard.server.studio._auth import Viewer, viewer
from shipyard.server.studio._render import render

router = APIRouter()

NAME = r"^[A-Za-z][A-Za-z0-9_\-]{0,127}$"
RUN_ID = r"^[0-9a-f]{6,32}$"
PAGE = 25
"""Runs per page."""
Who = Annotated[Viewer, Depends(viewer)]
Name = Annotated[str, Path(pattern=NAME)]
RunId = Annotated[str, Path(pattern=RUN_ID)]

_W, _H, _DX, _DY, _PAD = 210, 46, 226, 76, 12
"""A step's box, the distance between steps of a layer and between layers, the margin."""
_COLOURS = {
    "finished": ("#e3f9ee", "#17714f"),
    "cached": ("#e6f0fa", "#0b5cad"),
    "running": ("#fff3d6", "#8a5300"),
    "pending": ("#f5f7fa", "#52606d"),
    "skipped": ("#f5f7fa", "#9aa5b1"),
    "cancelled": ("#f5f7fa", "#9aa5b1"),
    "failed": ("#fff1f1", "#b3131b"),
}
"""A step's status -> its box's fill and outline (the outline keeps 4.5:1 on white)."""


@dataclass(frozen=True)
class Box:
    """Where the DAG drawing puts a step."""

    step: str
    kind: str
    status: str
    x: int
    y: int
    seconds: float | None

    @property
    def fill(self) -> str:
        return _COLOURS.get(self.status, _COLOURS["pending"])[0]

    @property
    def stroke(self) -> str:
        return _COLOURS.get(self.status, _COLOURS["pending"])[1]


@dataclass(frozen=True)
class Drawing:
    """The DAG as the SVG draws it: boxes, edges as paths, and the picture's size."""

    boxes: tuple[Box, ...]
    paths: tuple[tuple[str, str, str], ...]
    width: int
    height: int
    box_width: int = _W
    box_height: int = _H


@router.get("/pipelines", include_in_schema=False)
def pipelines(
    request: Request, who: Who, cursor: Annotated[str | None, Query(max_length=4096)] = None
) -> Response:
    from shipyard.pipelines import pipelines_page

    found = pipelines_page(who.project, PageQuery(limit=PAGE, cursor=cursor))
    next_url = f"/pipelines?cursor={found.next_cursor}" if found.next_cursor else None
    return render(request, "pipelines/index.html", who, pipelines=found.items, next_url=next_url)


@router.get("/pipelines/{name}", include_in_schema=False)
def pipeline_runs(
    request: Request,
    who: Who,
    name: Name,
    status: Annotated[str | None, Query(pattern=r"^(running|finished|failed)$")] = None,
    cursor: Annotated[str | None, Query(max_length=4096)] = None,
) -> Response:
    return _runs_page(request, who, name, status, cursor)


@router.post("/pipelines/{name}/runs", include_in_schema=False)
async def start_run(request: Request, who: Who, name: Name) -> Response:
    """Start a run with the form's parameter values (``param.NAME`` fields; a blank one takes
    the default), as ``POST /api/v1/pipelines/{name}/runs`` does; a bad value shows the
    form again with the pipelines room's message and the values as typed."""
    from shipyard.pipelines import start_in_background

    who.require("pipeline")
    form = await request.form()
    typed = {
        key.removeprefix("param."): value.strip()
        for key, value in form.multi_items()
        if key.startswith("param.") and isinstance(value, str)
    }
    given = {k: v for k, v in typed.items() if v}
    try:
        run = start_in_background(who.project, name, given, params_as_text=True, trigger="ui")
    except InvalidInput as exc:
        return _runs_page(request, who, name, None, None, problem=exc.message, typed=typed)
    return RedirectResponse(f"/pipelines/{name}/runs/{run.id}", status_code=303)


def _runs_page(
    request: Request,
    who: Viewer,
    name: str,
    status: str | None,
    cursor: str | None,
    *,
    problem: str | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    from shipyard.pipelines import pipeline_runs_page, run_form

    query = PageQuery(limit=PAGE, cursor=cursor, filters={"status": status})
    found = pipeline_runs_page(who.project, name, query)
    base = f"/pipelines/{name}?status={status or ''}"
    next_url = f"{base}&cursor={found.next_cursor}" if found.next_cursor else None
    if request.headers.get("hx-target") == "runs":
        return render(
            request, "pipelines/_runs.html", who, runs=found.items, status=status, next_url=next_url
        )
    return render(
        request,
        "pipelines/runs.html",
        who,
        name=name,
        runs=found.items,
        status=status,
        next_url=next_url,
        form=run_form(who.project, name) if who.can("pipeline") else None,
        problem=problem,
        typed=typed or {},
        status_code=422 if problem else 200,
    )


@router.get("/pipelines/{name}/runs/{run_id}", include_in_schema=False)
def pipeline_run(request: Request, who: Who, name: Name, run_id: RunId) -> Response:
    from shipyard.errors import NotFound
    from shipyard.pipelines import run_graph, show_pipeline_run

    shown = show_pipeline_run(who.project, run_id)
    if shown.run.pipeline != name:
        raise NotFound(
            f"Pipeline run {run_id} is a run of {shown.run.pipeline}, not of {name}.",
            details={"run": run_id, "pipeline": shown.run.pipeline},
        )
    graph = run_graph(who.project, shown.run.id)
    return render(request, "pipelines/run.html", who, shown=shown, drawing=draw(graph), name=name)


@router.post("/pipelines/{name}/runs/{run_id}/resume", include_in_schema=False)
def resume(who: Who, name: Name, run_id: RunId) -> Response:
    from shipyard.pipelines import resume_in_background

    who.require("pipeline")
    run = resume_in_background(who.project, run_id)
    return RedirectResponse(f"/pipelines/{run.pipeline}/runs/{run.id}", status_code=303)


def draw(graph: RunGraph) -> Drawing:
    """Lay the DAG out top to bottom, one row per layer (centred), each edge a curve from
    the bottom of a step to the top of the one that waits for it: pipelines are deeper than
    they are wide, so the drawing fits a page's width."""
    counts: dict[int, int] = {}
    for node in graph.nodes:
        counts[node.layer] = counts.get(node.layer, 0) + 1
    widest = max(counts.values(), default=1)
    placed: dict[int, int] = {}
    boxes = {}
    for node in graph.nodes:
        column = placed.get(node.layer, 0)
        placed[node.layer] = column + 1
        indent = (widest - counts[node.layer]) * _DX // 2
        boxes[node.step] = Box(
            node.step, node.kind, node.status, _PAD + indent + column * _DX,
            _PAD + node.layer * _DY, node.seconds,
        )  # fmt: skip
    paths = []
    for edge in graph.edges:
        a, b = boxes.get(edge.source), boxes.get(edge.target)
        if a is None or b is None:
            continue
        x1, y1, x2, y2 = a.x + _W // 2, a.y + _H, b.x + _W // 2, b.y
        bend = (y2 - y1) // 2
        path = f"M{x1},{y1} C{x1},{y1 + bend} {x2},{y2 - bend} {x2},{y2}"
        paths.append((edge.source, edge.target, path))
    width = _PAD * 2 + (widest - 1) * _DX + _W
    height = _PAD * 2 + max(counts, default=0) * _DY + _H
    return Drawing(tuple(boxes.values()), tuple(paths), width, height)
