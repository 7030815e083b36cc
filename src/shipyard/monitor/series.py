"""A monitor's results over time, read back from the reports of its runs: each feature's
drift per window, and model quality per window as labels arrive (measured with a bootstrap
interval once enough have, estimated by CBPE before). What a chart draws, for every face."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shipyard.catalog.paging import MAX_LIMIT, PageQuery
from shipyard.entities import MonitorRun
from shipyard.errors import InvalidInput
from shipyard.project import Project

__all__ = ["MonitorSeries", "Point", "Series", "monitor_series"]

_Z = 1.96


@dataclass(frozen=True)
class Point:
    """One window's value, its 95 % interval where known (``low``, ``high``), and whether
    the window's check flagged it (a drifted column, a quality violation)."""

    window_start: datetime
    value: float | None
    low: float | None = None
    high: float | None = None
    flagged: bool = False
    note: str | None = None


@dataclass(frozen=True)
class Series:
    """The points of one feature's drift or one metric, oldest window first. ``measure``
    says what ``value`` is (``distance``: normalized Wasserstein or Jensen-Shannon distance
    from the baseline; a metric's name; ``labelled_share``)."""

    name: str
    measure: str
    points: tuple[Point, ...]


@dataclass(frozen=True)
class MonitorSeries:
    """A monitor's last ``len(windows)`` checked windows (oldest first): drift per feature,
    model quality per metric (``baseline`` holds the baseline's value of each), and the
    share of captured rows labelled so far."""

    monitor: str
    windows: tuple[datetime, ...]
    drift: tuple[Series, ...]
    quality: tuple[Series, ...]
    baseline: Mapping[str, float | None]
    labelled: Series


def monitor_series(project: Project, name: str, *, windows: int = 100) -> MonitorSeries:
    """Drift per feature and model quality over monitor ``name``'s latest ``windows`` runs.

    Raises:
        NotFound: No such monitor (a close name is suggested).
        InvalidInput: ``windows`` is not from 1 to 1,000.
    """
    if not 1 <= windows <= MAX_LIMIT:
        raise InvalidInput(
            f"The 'windows' parameter must be from 1 to {MAX_LIMIT}. Got {windows} instead.",
            details={"windows": windows},
        )
    project.catalog.get_monitor(name)
    page = project.catalog.page_monitor_runs(PageQuery(limit=windows, filters={"monitor": name}))
    runs = [r for r in reversed(page.items) if r.status != "empty"]
    drift: dict[str, list[Point]] = {}
    quality: dict[str, list[Point]] = {}
    baseline: dict[str, float | None] = {}
    labelled: list[Point] = []
    for run in runs:
        sections = {s.get("kind"): s for s in run.report.get("sections", [])}
        for column in _drift_columns(sections.get("drift")):
            drift.setdefault(column["column"], []).append(
                Point(
                    run.window_start,
                    _finite(column.get("distance")),
                    flagged=bool(column.get("drifted")),
                    note=column.get("test"),
                )
            )
        section = sections.get("model-quality")
        if section is not None:
            _quality_points(run, section, quality, baseline, labelled)
    return MonitorSeries(
        monitor=name,
        windows=tuple(r.window_start for r in runs),
        drift=tuple(Series(k, "distance", tuple(v)) for k, v in sorted(drift.items())),
        quality=tuple(Series(k, k, tuple(v)) for k, v in quality.items()),
        baseline=baseline,
        labelled=Series("labelled", "labelled_share", tuple(labelled)),
    )


def _drift_columns(section: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    if not section or not isinstance(section.get("report"), dict):
        return []
    return [c for c in section["report"].get("columns", []) if "column" in c]


def _quality_points(
    run: MonitorRun,
    section: Mapping[str, Any],
    quality: dict[str, list[Point]],
    baseline: dict[str, float | None],
    labelled: list[Point],
) -> None:
    at = run.window_start
    flagged = {
        v["evidence"].get("metric")
        for v in section.get("violations", [])
        if isinstance(v.get("evidence"), dict)
    }
    counts = section.get("counts") or {}
    captured = counts.get("captured") or 0
    if captured and "labelled" in counts:
        labelled.append(Point(at, counts["labelled"] / captured, note=f"{counts['labelled']:,}"))
    for metric, then in (section.get("baseline") or {}).items():
        if isinstance(then, dict):
            baseline.setdefault(metric, _finite(then.get("value")))
    measured = section.get("measured") or {}
    for metric, got in (measured.get("metrics") or {}).items():
        if not isinstance(got, dict):
            continue
        low, high = got.get("ci95") or (None, None)
        quality.setdefault(metric, []).append(
            Point(at, _finite(got.get("value")), _finite(low), _finite(high),
                  metric in flagged, "measured")
        )  # fmt: skip
    estimated = section.get("estimated") or {}
    if not measured:
        for metric in ("roc_auc", "accuracy"):
            value, se = _finite(estimated.get(metric)), _finite(estimated.get(f"{metric}_se"))
            if value is None:
                continue
            low, high = (value - _Z * se, value + _Z * se) if se is not None else (None, None)
            quality.setdefault(metric, []).append(
                Point(at, value, low, high, metric in flagged, "estimated (CBPE)")
            )


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None
