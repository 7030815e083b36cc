"""Keeping a project tidy: finding and removing what dead processes left behind."""

from __future__ import annotations

from shipyard.maintenance.gc import GRACE, Garbage, GcResult, collect_garbage

__all__ = ["GRACE", "Garbage", "GcResult", "collect_garbage"]
