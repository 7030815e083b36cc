"""Labels arrive late: each run checks again the earlier windows whose labels dataset has a
new version since they were checked, so a window estimated by CBPE is measured once its
labels are known, without --force and without re-running its other checks."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.entities import ModelVersion, Monitor
from shipyard.project import Project

if TYPE_CHECKING:
    from shipyard.monitor._runner import WindowResult

LOOKBACK_RUNS = 168
"""How many of the latest windows are checked again (a week of hourly windows)."""
_LABEL_KINDS = ("model-quality", "bias")


def refresh_late_labels(
    project: Project,
    monitor: Monitor,
    version: ModelVersion,
    baseline: dict[str, Any],
    skip: set[tuple[datetime, datetime]],
) -> list[WindowResult]:
    """Re-check the label-dependent sections of earlier windows of ``version`` that still had
    unlabelled rows and were checked against an older labels version; only violations not
    alerted before for that window become new alerts."""
    kinds = tuple(k for k in monitor.kinds if k in _LABEL_KINDS)
    if not monitor.labels or not kinds:
        return []
    latest = project.catalog.get_dataset_version(monitor.labels["dataset"]).ref
    out = []
    for run in project.catalog.list_monitor_runs(monitor.name, limit=LOOKBACK_RUNS):
        report = run.report
        if (run.window_start, run.window_end) in skip or not report.get("rows"):
            continue
        if report.get("model") != version.ref or report.get("labels_version") == latest:
            continue
        if not _still_unlabelled(report):
            continue
        out.append(_refresh(project, monitor, version, baseline, run, kinds))
    return out


def _still_unlabelled(report: dict[str, Any]) -> bool:
    for section in report.get("sections", []):
        if section["kind"] == "model-quality":
            return bool(section.get("counts", {}).get("unlabelled", 1))
    return True


def _refresh(
    project: Project,
    monitor: Monitor,
    version: ModelVersion,
    baseline: dict[str, Any],
    run: Any,
    kinds: tuple[str, ...],
) -> WindowResult:
    from shipyard.monitor._runner import _sections, store_run
    from shipyard.monitor._window import open_window

    with tempfile.TemporaryDirectory(prefix="shipyard-monitor-") as folder:
        window = open_window(
            project, monitor, version, baseline, run.window_start, run.window_end, Path(folder)
        )
        fresh, labels_version = _sections(window, kinds)
    by_kind = {s["kind"]: s for s in fresh}
    report = dict(run.report)
    report["sections"] = [by_kind.get(s["kind"], s) for s in report["sections"]]
    report["labels_version"] = labels_version
    seen = {
        (a.violation, a.evidence.get("metric"), a.evidence.get("group"))
        for a in project.catalog.list_alerts(monitor=monitor.name)
        if a.window_start == run.window_start
    }
    new = [
        {**v, "kind": s["kind"]}
        for s in fresh
        for v in s.get("violations", [])
        if (v["violation"], v["evidence"].get("metric"), v["evidence"].get("group")) not in seen
    ]
    return store_run(project, monitor, report, new, replace=True, refreshed=True)
