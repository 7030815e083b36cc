"""The model registry: versions, bundles, aliases per environment, lineage, approval, and
gated promotion (copying a version into an environment's own catalog and stores)."""

from __future__ import annotations

from shipyard.registry._approval import (
    APPROVAL_STATUSES,
    ModelHistory,
    approval_history,
    approve_model,
    model_history,
    reject_model,
)
from shipyard.registry._gate_context import BASELINE_REPORT
from shipyard.registry._promote import PromotionRefused, PromotionResult, promote
from shipyard.registry.registry import (
    LoadedModel,
    list_versions,
    load_model,
    load_version,
    publish_model,
    register_model,
    resolve_model,
)

__all__ = [
    "APPROVAL_STATUSES",
    "BASELINE_REPORT",
    "LoadedModel",
    "ModelHistory",
    "PromotionRefused",
    "PromotionResult",
    "approval_history",
    "approve_model",
    "list_versions",
    "load_model",
    "load_version",
    "model_history",
    "promote",
    "publish_model",
    "register_model",
    "reject_model",
    "resolve_model",
]
