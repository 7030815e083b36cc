"""Running a monitor: every complete window since its last run (or the windows of a given
span), each checked once, reported (JSON in the catalog, HTML in the artifact store), its
violations stored as alerts and notified."""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shipyard.entities import Alert, ModelVersion, Monitor, MonitorRun
from shipyard.errors import InvalidInput, ShipyardError
from shipyard.monitor._late_labels import refresh_late_labels
from shipyard.project import Project

__all__ = ["MonitorResult", "WindowResult", "run_monitor"]

MAX_WINDOWS = 1000
"""A run without --since checks at most this many windows (the oldest first)."""
REPORT_VERSION = 1


@dataclass(frozen=True)
class WindowResult:
    """One window: its stored run and alerts, or why it was skipped."""

    start: datetime
    end: datetime
    run: MonitorRun | None
    alerts: tuple[Alert, ...] = ()
    skipped: str | None = None
    refreshed: bool = False  # an earlier window checked again because labels arrived


@dataclass(frozen=True)
class MonitorResult:
    """What ``monitors run`` did: one entry per window considered."""

    monitor: Monitor
    model: str
    windows: tuple[WindowResult, ...] = field(default_factory=tuple)

    @property
    def violations(self) -> int:
        return sum(len(w.alerts) for w in self.windows)


def run_monitor(
    project: Project,
    name: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    force: bool = False,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> MonitorResult:
    """Run monitor ``name`` over each window not run yet, then check again the earlier
    windows whose labels arrived since (model quality and bias, see
    :func:`~shipyard.monitor._late_labels.refresh_late_labels`).

    Without ``since``/``until`` it checks every complete window from the end of its last
    run (or from the first captured row) up to now, so a cron line can call it at any rate.
    With them it checks ``[since, until)`` cut into windows of the monitor's length. A
    window run before is skipped unless ``force``. A window with no captured rows gets a
    report that says so.

    Raises:
        NotFound: No such monitor, its model ref no longer resolves, or the version has no
            baseline (the message says how to make one).
        InvalidInput: ``since`` not before ``until``, or a time without a zone.
    """
    from shipyard.monitor.baseline import load_baseline

    monitor = project.catalog.get_monitor(name)
    stored = load_baseline(project, monitor.model)
    version, baseline = stored.model_version, stored.payload
    windows = _windows(project, monitor, version, since, until, now or datetime.now(UTC))
    done = {
        (r.window_start, r.window_end)
        for r in project.catalog.list_monitor_runs(name, limit=MAX_WINDOWS)
    }
    results = []
    for start, end in windows:
        if (start, end) in done and not force:
            results.append(WindowResult(start, end, None, skipped="run already (use --force)"))
            continue
        if progress:
            progress(f"Checking {start:%Y-%m-%d %H:%M} .. {end:%H:%M} UTC")
        results.append(_run_window(project, monitor, version, baseline, start, end, force))
    ran = {(w.start, w.end) for w in results if w.run is not None}
    results += refresh_late_labels(project, monitor, version, baseline, ran)
    return MonitorResult(monitor, version.ref, tuple(results))


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise InvalidInput(
            f"The '{name}' time must carry a time zone (e.g. 2025-01-01T00:00Z). Got "
            f"{value.isoformat()} instead."
        )
    return value.astimezone(UTC)


def _windows(
    project: Project,
    monitor: Monitor,
    version: ModelVersion,
    since: datetime | None,
    until: datetime | None,
    now: datetime,
) -> list[tuple[datetime, datetime]]:
    step = timedelta(seconds=monitor.window_seconds)
    if since is not None or until is not None:
        start = _utc(since, "since") if since else _floor(_utc(until, "until") - step, step)  # type: ignore[arg-type]
        end = _utc(until, "until") if until else start + step
        if start >= end:
            raise InvalidInput(
                f"--since must be before --until. Got {start.isoformat()} and {end.isoformat()}."
            )
        edges = [start]
        while edges[-1] + step < end:
            edges.append(edges[-1] + step)
        return [(a, min(a + step, end)) for a in edges]
    end = _floor(now, step)
    runs = project.catalog.list_monitor_runs(monitor.name, limit=1)
    if runs:
        start = runs[0].window_end
    else:
        first = _first_capture(project, version)
        if first is None:
            return []
        start = _floor(first, step)
    count = int((end - start) / step)
    return [
        (start + i * step, start + (i + 1) * step) for i in range(max(0, min(count, MAX_WINDOWS)))
    ]


def _floor(at: datetime, step: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((at - epoch) // step) * step


def _first_capture(project: Project, version: ModelVersion) -> datetime | None:
    import duckdb

    from shipyard.capture import capture_relation

    con = duckdb.connect(":memory:")
    try:
        rel = capture_relation(con, project.artifacts, version.name, version=version.version)
        if rel is None:
            return None
        rel.create_view("captured")
        row = con.execute("SELECT epoch_us(min(captured_at)) FROM captured").fetchone()
    finally:
        con.close()
    if not row or row[0] is None:
        return None
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(row[0]))


def _run_window(
    project: Project,
    monitor: Monitor,
    version: ModelVersion,
    baseline: dict[str, Any],
    start: datetime,
    end: datetime,
    force: bool,
) -> WindowResult:
    from shipyard.monitor._window import open_window

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="shipyard-monitor-") as folder:
        window = open_window(project, monitor, version, baseline, start, end, Path(folder))
        sections, labels_version = _sections(window) if window.rows else ([], None)
    report: dict[str, Any] = {
        "version": REPORT_VERSION,
        "kind": "shipyard.monitor.run",
        "monitor": monitor.name,
        "model": version.ref,
        "window": {"start": start.isoformat(), "end": end.isoformat()},
        "rows": window.rows,
        "empty": window.rows == 0,
        "summary": (
            f"No captured rows of {version.ref} between {start.isoformat()} and "
            f"{end.isoformat()}: nothing to check."
            if window.rows == 0
            else f"{window.rows:,} captured rows checked by {', '.join(monitor.kinds)}."
        ),
        "sections": sections,
        "labels_version": labels_version,
    }
    violations = [{**v, "kind": s["kind"]} for s in sections for v in s.get("violations", [])]
    report["seconds"] = round(time.perf_counter() - started, 3)
    return store_run(project, monitor, report, violations, replace=force)


def store_run(
    project: Project,
    monitor: Monitor,
    report: dict[str, Any],
    new_alerts: list[dict[str, Any]],
    *,
    replace: bool,
    refreshed: bool = False,
) -> WindowResult:
    """Write the run's page, record the run with its new alerts, and notify them."""
    from shipyard.monitor.alerts import notify
    from shipyard.monitor.report_html import render_run_html

    start = datetime.fromisoformat(report["window"]["start"])
    end = datetime.fromisoformat(report["window"]["end"])
    key = f"reports/monitors/{monitor.name}/{start:%Y%m%dT%H%M}-{uuid.uuid4().hex[:8]}.html"
    uri = project.artifacts.put_bytes(key, render_run_html(report).encode())
    total = sum(len(s.get("violations", [])) for s in report["sections"])
    status = "empty" if report["rows"] == 0 else ("violations" if total else "ok")
    run, alerts = project.catalog.record_monitor_run(
        monitor.name,
        window_start=start,
        window_end=end,
        status=status,
        report=report,
        html_uri=uri,
        alerts=new_alerts,
        replace=replace,
        violations=total,
        actor=project.actor,
    )
    alerts = notify(project, monitor, alerts)
    return WindowResult(start, end, run, tuple(alerts), refreshed=refreshed)


def _sections(
    window: Any, kinds: tuple[str, ...] | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """The report sections of ``kinds`` (default: the monitor's) and the labels version read."""
    from shipyard.monitor import _kinds, _quality
    from shipyard.monitor._window import join_labels

    labelled, join_error = None, None
    kinds = kinds or window.monitor.kinds
    if "model-quality" in kinds or "bias" in kinds:
        try:
            labelled = join_labels(window)
        except ShipyardError as exc:  # labels that cannot be read fail those checks only
            join_error = exc
    checks: dict[str, Callable[[], dict[str, Any]]] = {
        "data-quality": lambda: _kinds.data_quality(window),
        "drift": lambda: _kinds.drift(window),
        "model-quality": lambda: _quality.model_quality(window, labelled),
        "bias": lambda: _quality.bias(window, labelled),
        "attribution": lambda: _kinds.attribution(window),
    }
    out = []
    for kind in kinds:
        try:
            if join_error is not None and kind in ("model-quality", "bias"):
                raise join_error
            out.append(checks[kind]())
        except ShipyardError as exc:  # one check that cannot run must not hide the others
            out.append({"kind": kind, "status": "error", "summary": exc.message, "violations": []})
    return out, (labelled.labels_dataset if labelled is not None else None)
