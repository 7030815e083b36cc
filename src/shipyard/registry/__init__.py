"""The model registry: versions, bundles, aliases per environment, lineage."""

from __future__ import annotations

from shipyard.registry.registry import (
    MODEL_FILE,
    LoadedModel,
    list_versions,
    load_model,
    promote,
    publish_model,
    register_model,
    resolve_model,
)

__all__ = [
    "MODEL_FILE",
    "LoadedModel",
    "list_versions",
    "load_model",
    "promote",
    "publish_model",
    "register_model",
    "resolve_model",
]
