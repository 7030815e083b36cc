"""Experiment tracking: runs, their heartbeats, and the repair of runs whose process died."""

from __future__ import annotations

from shipyard.tracking._liveness import (
    HEARTBEAT_SECONDS,
    STALE_AFTER,
    Heartbeat,
    dead_reason,
    fail_dead_runs,
    fail_own_runs,
)
from shipyard.tracking._runs import (
    RunDetail,
    compare_runs,
    get_run,
    list_runs,
    runs_page,
    split_of,
)

__all__ = [
    "HEARTBEAT_SECONDS",
    "STALE_AFTER",
    "Heartbeat",
    "RunDetail",
    "compare_runs",
    "dead_reason",
    "fail_dead_runs",
    "fail_own_runs",
    "get_run",
    "list_runs",
    "runs_page",
    "split_of",
]
