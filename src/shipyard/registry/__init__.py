"""The model registry: versions, bundles, aliases per environment, lineage."""

from __future__ import annotations

from shipyard.registry.browse import (
    Lineage,
    LineageEdge,
    LineageNode,
    lineage_graph,
    versions_page,
)
from shipyard.registry.registry import (
    LoadedModel,
    list_versions,
    load_model,
    promote,
    publish_model,
    register_model,
    resolve_model,
)

__all__ = [
    "Lineage",
    "LineageEdge",
    "LineageNode",
    "LoadedModel",
    "lineage_graph",
    "list_versions",
    "load_model",
    "promote",
    "publish_model",
    "register_model",
    "resolve_model",
    "versions_page",
]
