"""The model registry: versions, bundles, aliases per environment, lineage, approval, and
gated promotion (copying a version into an environment's own catalog and stores).

Promotion's names load on first use: its gates need NumPy and pandas, which listing or
approving a version does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard._lazy import lazy_exports
from shipyard.registry._approval import (
    APPROVAL_STATUSES,
    ModelHistory,
    approval_history,
    approve_model,
    model_history,
    reject_model,
)
from shipyard.registry.browse import (
    Lineage,
    LineageEdge,
    LineageNode,
    lineage_graph,
    versions_page,
)
from shipyard.registry.registry import (
    MODEL_FILE,
    LoadedModel,
    list_versions,
    load_model,
    load_version,
    publish_model,
    register_model,
    resolve_model,
)

if TYPE_CHECKING:
    from shipyard.registry._gate_context import BASELINE_REPORT
    from shipyard.registry._promote import PromotionRefused, PromotionResult, promote

_EXPORTS = {
    "BASELINE_REPORT": "._gate_context",
    "PromotionRefused": "._promote",
    "PromotionResult": "._promote",
    "promote": "._promote",
}

__all__ = [
    "APPROVAL_STATUSES",
    "BASELINE_REPORT",
    "MODEL_FILE",
    "Lineage",
    "LineageEdge",
    "LineageNode",
    "LoadedModel",
    "ModelHistory",
    "PromotionRefused",
    "PromotionResult",
    "approval_history",
    "approve_model",
    "lineage_graph",
    "list_versions",
    "load_model",
    "load_version",
    "model_history",
    "promote",
    "publish_model",
    "register_model",
    "reject_model",
    "resolve_model",
    "versions_page",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
