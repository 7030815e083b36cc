"""Keeping a project tidy: finding and removing what dead processes left behind."""

from __future__ import annotations

from shipyard.maintenance.doctor import Finding, Health, check_health
from shipyard.maintenance.gc import GRACE, Garbage, GcResult, collect_garbage

__all__ = [
    "GRACE",
    "Finding",
    "Garbage",
    "GcResult",
    "Health",
    "check_health",
    "collect_garbage",
]
