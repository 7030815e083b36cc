"""Browsing the registry: model versions a page at a time, and a version's lineage as a graph
(what the REST API and Studio show)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from shipyard.catalog.paging import Page, PageQuery
from shipyard.entities import Endpoint, ModelVersion
from shipyard.environments import environment_project
from shipyard.errors import NotFound
from shipyard.project import Project
from shipyard.tracking import fail_dead_runs
from shipyard.types import ENVIRONMENTS

__all__ = ["Lineage", "LineageEdge", "LineageNode", "lineage_graph", "versions_page"]

_ENDPOINTS_PAGE = 200


def versions_page(
    project: Project, query: PageQuery, *, environment: str | None = None
) -> Page[ModelVersion]:
    """One page of model versions (sorts and filters: ``model_versions`` in
    :data:`~shipyard.catalog.paging.LISTINGS`), read from ``environment``'s catalog when one
    is named (where its aliases live: ``{"alias": "prod"}`` lists what prod serves); with
    ``include_pending``, runs whose process died are failed first, so what their job left
    shows as ``abandoned``.

    Raises:
        InvalidInput: A bad sort, filter, limit or cursor, or an unknown environment.
    """
    home = project if environment is None else environment_project(project, environment)
    if query.filters.get("include_pending"):
        fail_dead_runs(home.catalog, home.actor)
    return home.catalog.page_model_versions(query)


@dataclass(frozen=True)
class LineageNode:
    """An object of the lineage: ``type`` is dataset, feature_group, run, model or
    environment; ``ref`` is how to ask for it (``usage@3``, ``fraud:2``, a run id)."""

    id: str
    type: str
    label: str
    ref: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LineageEdge:
    """``source`` was used to make ``target`` (or, for an environment, serves it)."""

    source: str
    target: str


@dataclass(frozen=True)
class Lineage:
    """Where a model version came from and where it is used, as a directed graph."""

    model: str
    nodes: list[LineageNode]
    edges: list[LineageEdge]


def lineage_graph(project: Project, version: ModelVersion) -> Lineage:
    """The lineage of ``version``: feature groups -> training dataset version -> run ->
    model version -> the environments whose alias points at it -> the endpoints (of every
    environment) whose variants or shadow name the version or one of those aliases."""
    nodes: list[LineageNode] = []
    edges: list[LineageEdge] = []
    model_id = f"model:{version.ref}"
    lineage = version.lineage or {}
    dataset = lineage.get("dataset")
    if dataset:
        data_id = f"dataset:{dataset}"
        nodes.append(LineageNode(data_id, "dataset", str(dataset), str(dataset)))
        for group in (lineage.get("features") or {}).get("groups", []):
            ref = f"{group['group']}:{group['version']}"
            details = {"features": list(group.get("features", []))}
            nodes.append(LineageNode(f"group:{ref}", "feature_group", ref, ref, details))
            edges.append(LineageEdge(f"group:{ref}", data_id))
    upstream = f"dataset:{dataset}" if dataset else None
    if version.run_id:
        run_id = f"run:{version.run_id}"
        nodes.append(_run_node(project, version.run_id))
        if upstream:
            edges.append(LineageEdge(upstream, run_id))
        upstream = run_id
    nodes.append(
        LineageNode(model_id, "model", version.ref, version.ref, {"status": version.status})
    )
    if upstream:
        edges.append(LineageEdge(upstream, model_id))
    for alias in version.aliases:
        ref = f"{version.name}@{alias}"
        nodes.append(LineageNode(f"alias:{ref}", "environment", alias, ref))
        edges.append(LineageEdge(model_id, f"alias:{ref}"))
    _add_endpoints(project, version, nodes, edges)
    return Lineage(version.ref, nodes, edges)


def _add_endpoints(
    project: Project, version: ModelVersion, nodes: list[LineageNode], edges: list[LineageEdge]
) -> None:
    """The endpoints serving ``version`` (by its ref or an alias of it), each an edge from
    the node of what it names."""
    serving = {version.ref} | {f"{version.name}@{a}" for a in version.aliases}
    for endpoint in _endpoints(project):
        named = _models_named(endpoint.config)
        for ref in sorted(named.keys() & serving):
            node = f"endpoint:{endpoint.ref}"
            details = {"env": endpoint.env, "name": endpoint.name, "role": named[ref]}
            nodes.append(LineageNode(node, "endpoint", endpoint.ref, endpoint.ref, details))
            edges.append(LineageEdge(f"alias:{ref}" if "@" in ref else f"model:{ref}", node))


def _endpoints(project: Project) -> Iterator[Endpoint]:
    """Every environment's endpoints, read a page at a time from the catalog it keeps them in."""
    for env in ENVIRONMENTS:
        catalog = environment_project(project, env).catalog
        cursor = None
        while True:
            query = PageQuery(limit=_ENDPOINTS_PAGE, cursor=cursor, filters={"env": env})
            page = catalog.page_endpoints(query)
            yield from page.items
            cursor = page.next_cursor
            if cursor is None:
                break


def _models_named(config: Mapping[str, Any]) -> dict[str, str]:
    """The model refs an endpoint's configuration names: each variant's, and its shadow's."""
    named = {str(v.get("model")): "variant" for v in config.get("variants", []) if v.get("model")}
    shadow = config.get("shadow") or {}
    if isinstance(shadow, Mapping) and shadow.get("model"):
        named.setdefault(str(shadow["model"]), "shadow")
    return named


def _run_node(project: Project, run_id: str) -> LineageNode:
    try:
        run = project.catalog.get_run(run_id)
    except NotFound:  # a run is never deleted today; a catalog copied without it still shows
        return LineageNode(f"run:{run_id}", "run", run_id[:12], run_id, {"status": "missing"})
    details = {"experiment": run.experiment, "status": run.status}
    return LineageNode(f"run:{run_id}", "run", run.name, run.id, details)
