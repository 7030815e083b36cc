"""Models: the registry, a model's versions (status, approval, aliases), and a version's
page: lineage as a graph, the evaluation report, the baseline, gate results, and the approve,
reject and promote buttons for the roles allowed."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from shipyard.catalog.paging import PageQuery
from shipyard.catalog.refs import MAX_VERSION
from shipyard.entities import ModelVersion
from shipyard.errors import NotFound
from shipyard.security.roles import ENVIRONMENTS
from shipyard.server._deps import html_page
from shipyard.server.studio._auth import Viewer, viewer
from shipyard.server.studio._graph import layout
from shipyard.server.studio._render import PLOTLY_URL, is_htmx, render
from shipyard.server.studio._report import studio_page

router = APIRouter()

NAME = r"^[A-Za-z][A-Za-z0-9_\-]{0,127}$"
PAGE = 50
Who = Annotated[Viewer, Depends(viewer)]
Name = Annotated[str, Path(pattern=NAME)]
Version = Annotated[int, Path(ge=1, le=MAX_VERSION)]
Cursor = Annotated[str | None, Query(max_length=4096)]
Comment = Annotated[str, Form(min_length=1, max_length=2000)]
DONE = {"approved": "Approved.", "rejected": "Rejected.", "promoted": "Promoted."}


@router.get("/models", include_in_schema=False)
def models(
    request: Request,
    who: Who,
    prefix: Annotated[str | None, Query(max_length=128)] = None,
    cursor: Cursor = None,
) -> Response:
    query = PageQuery(limit=PAGE, cursor=cursor, filters={"prefix": prefix or None})
    found = who.project.catalog.page_models(query)
    next_url = _next("/models", found.next_cursor, prefix=prefix)
    template = "models/_list.html" if is_htmx(request) else "models/index.html"
    return render(
        request, template, who, items=found.items, prefix=prefix or "", next_url=next_url
    )  # fmt: skip


@router.get("/models/{name}", include_in_schema=False)
def versions(request: Request, who: Who, name: Name, cursor: Cursor = None) -> Response:
    from shipyard.registry import resolve_model, versions_page

    latest = resolve_model(who.project, name)  # an unknown name: 404 with a suggestion
    query = PageQuery(limit=PAGE, cursor=cursor, filters={"name": name, "include_pending": True})
    found = versions_page(who.project, query)
    next_url = _next(f"/models/{name}", found.next_cursor)
    template = "models/_versions.html" if is_htmx(request) else "models/model.html"
    return render(
        request, template, who, name=name, latest=latest, items=found.items, next_url=next_url
    )  # fmt: skip


@router.get("/models/{name}/{version}", include_in_schema=False)
def version_page(
    request: Request,
    who: Who,
    name: Name,
    version: Version,
    done: Annotated[Literal["approved", "rejected", "promoted"] | None, Query()] = None,
) -> Response:
    from shipyard.registry import lineage_graph, model_history

    history = model_history(who.project, f"{name}:{version}")
    found = history.version
    return render(
        request,
        "models/version.html",
        who,
        v=found,
        history=history,
        promotions=_latest_promotions(history.promotions),
        graph=_lineage(lineage_graph(who.project, found)),
        evaluation=_has_evaluation(who, found),
        baseline=_baseline(who, found),
        promote_to=[e for e in ENVIRONMENTS if who.can("promote", e)],
        notice=DONE.get(done or ""),
    )


@router.get("/models/{name}/{version}/evaluation", include_in_schema=False)
def evaluation_report(request: Request, who: Who, name: Name, version: Version) -> Response:
    """The stored evaluation page, Plotly by URL, sandboxed (scripts run in an origin of
    their own, which cannot read Studio's)."""
    from shipyard.evaluation import evaluation_html, load_evaluation

    stored = load_evaluation(who.project, f"{name}:{version}")
    page = evaluation_html(who.project, stored).decode("utf-8")
    return html_page(request, studio_page(page, PLOTLY_URL).encode("utf-8"))


@router.get("/models/{name}/{version}/baseline", include_in_schema=False)
def baseline_report(request: Request, who: Who, name: Name, version: Version) -> Response:
    from shipyard.monitor import load_baseline

    stored = load_baseline(who.project, f"{name}:{version}")
    if not stored.html_uri:
        raise NotFound(f"The baseline of {name}:{version} has no HTML page.")
    artifacts = who.project.artifacts
    page = artifacts.get_bytes(artifacts.key_of(stored.html_uri)).decode("utf-8")
    return html_page(request, studio_page(page, PLOTLY_URL).encode("utf-8"))


@router.post("/models/{name}/{version}/approve", include_in_schema=False)
def approve(who: Who, name: Name, version: Version, comment: Comment) -> Response:
    from shipyard.registry import approve_model

    who.require("approve")
    approve_model(who.project, f"{name}:{version}", comment=comment)
    return _back(name, version, "approved")


@router.post("/models/{name}/{version}/reject", include_in_schema=False)
def reject(who: Who, name: Name, version: Version, comment: Comment) -> Response:
    from shipyard.registry import reject_model

    who.require("approve")
    reject_model(who.project, f"{name}:{version}", comment=comment)
    return _back(name, version, "rejected")


@router.post("/models/{name}/{version}/promote", include_in_schema=False)
def promote_version(
    who: Who,
    name: Name,
    version: Version,
    environment: Annotated[Literal["dev", "staging", "prod"], Form()],
) -> Response:
    from shipyard.registry import promote

    who.require("promote", environment)
    promote(who.project, f"{name}:{version}", environment)
    return _back(name, version, "promoted")


def _back(name: str, version: int, done: str) -> Response:
    return RedirectResponse(f"/models/{name}/{version}?done={done}", status_code=303)


def _next(path: str, cursor: str | None, **params: str | None) -> str | None:
    if cursor is None:
        return None
    extra = "".join(f"&{k}={quote(v)}" for k, v in params.items() if v)
    return f"{path}?cursor={quote(cursor)}{extra}"


def _latest_promotions(records: Any) -> list[tuple[Any, int]]:
    """Each environment's latest promotion attempt and how many came before it."""
    latest: dict[str, Any] = {}
    counts: Counter[str] = Counter()
    for record in records:  # oldest first
        latest[record.environment] = record
        counts[record.environment] += 1
    return [(latest[e], counts[e] - 1) for e in ENVIRONMENTS if e in latest]


def _has_evaluation(who: Viewer, version: ModelVersion) -> bool:
    from shipyard.evaluation import load_evaluation

    try:
        return load_evaluation(who.project, version.ref).html_uri is not None
    except NotFound:
        return False


def _baseline(who: Viewer, version: ModelVersion) -> dict[str, Any] | None:
    """What the page says of the baseline: None when the version has none."""
    from shipyard.monitor import load_baseline

    try:
        stored = load_baseline(who.project, version.ref)
    except NotFound:
        return None
    payload = stored.payload
    summary = {k: v for k, v in payload.items() if isinstance(v, str | int | float)}
    return {"summary": summary, "keys": sorted(payload), "html": stored.html_uri is not None}


def _lineage(lineage: Any) -> Any:
    """The lineage graph (the registry's, endpoints included) laid out for SVG."""
    nodes = [(n.id, n.type, n.label) for n in lineage.nodes]
    edges = [(e.source, e.target) for e in lineage.edges]
    return layout(nodes, edges, _href)


def _href(kind: str, node_id: str) -> str | None:
    ref = node_id.split(":", 1)[1]
    if kind == "run":
        return f"/runs/{ref}"
    if kind == "model":
        name, _, number = ref.partition(":")
        return f"/models/{name}/{number}"
    if kind == "endpoint":
        return f"/endpoints/{ref}"
    return None
