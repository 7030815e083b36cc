"""Watching the replayed traffic: labels fed as they become known (new versions of a labels
dataset keyed by request id), a monitor with data-quality, drift and model-quality checks
run over the replayed days, and what it found."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    from shipyard.monitor import MonitorResult
    from shipyard.project import Project

__all__ = ["MATURITY", "MONITOR", "Watch", "feed_labels", "watch"]

MONITOR = "fraud-watch"
LABELS = "replay_labels"
WINDOW = "1d"
MATURITY = timedelta(days=11)
"""A subscriber-day with no fraud confirmed this long after it is taken as clean: the
generator confirms fraud 1 to 11 days late."""


@dataclass
class Watch:
    """What the monitor said over the replayed days."""

    drifted: dict[str, list[str]] = field(default_factory=dict)
    estimated: dict[str, float] = field(default_factory=dict)
    measured: dict[str, float] = field(default_factory=dict)
    baseline_auc: float | None = None
    alerts: list[str] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)
    label_versions: list[str] = field(default_factory=list)


def feed_labels(
    project: Project, scored: pd.DataFrame, known_by: datetime
) -> tuple[str | None, int]:
    """Publish the labels known at ``known_by`` for the scored requests as a new version of
    ``replay_labels``: 1 where fraud on that subscriber-day was confirmed by then, 0 where
    the day has matured with none (see :data:`MATURITY`). Returns the ref (None when no
    label is known yet) and the label count."""
    from shipyard.ingest import ingest_path
    from shipyard.lake import connect_views

    con = connect_views(project.catalog, project.lake)
    at = f"TIMESTAMP '{known_by:%Y-%m-%d %H:%M:%S}'"
    try:
        con.register("scored", scored[["request_id", "subscriber_id", "day"]])
        table = con.sql(
            "SELECT s.request_id, s.subscriber_id, CAST(s.day AS DATE) AS day, "
            "CAST(l.subscriber_id IS NOT NULL AS INTEGER) AS is_fraud, "
            "coalesce(l.confirmed_at, CAST(s.day AS TIMESTAMP) + INTERVAL 11 DAY) AS known_at "
            "FROM scored s LEFT JOIN labels l "
            "ON l.subscriber_id = s.subscriber_id AND l.day = CAST(s.day AS DATE) "
            f"WHERE coalesce(l.confirmed_at <= {at}, "
            f"CAST(s.day AS TIMESTAMP) + INTERVAL 11 DAY <= {at})"
        ).to_arrow_table()
    finally:
        con.close()
    import pyarrow.parquet as pq

    if table.num_rows == 0:
        return None, 0
    with tempfile.TemporaryDirectory(prefix="shipyard-demo-labels-") as folder:
        path = Path(folder) / "labels.parquet"
        pq.write_table(table, path)
        version = ingest_path(project, path, LABELS).version
    return version.ref, version.num_rows


def watch(
    project: Project,
    scored: pd.DataFrame,
    since: datetime,
    until: datetime,
    out: Console,
) -> Watch:
    """Create the monitor, run it over ``[since, until)`` by day as labels arrive: at the
    end of the replay, a week later, and once every day has matured."""
    from shipyard.monitor import create_monitor, run_monitor

    found = Watch()
    start, end = since.replace(tzinfo=UTC), until.replace(tzinfo=UTC)
    created = False
    for known_by in (until, until + MATURITY):
        ref, count = feed_labels(project, scored, known_by)
        out.print(
            f"  labels known by {known_by:%Y-%m-%d %H:%M}: {ref or 'none yet'} "
            f"({count:,} labelled requests)"
        )
        if ref is None:
            continue
        found.label_versions.append(ref)
        if not created:
            create_monitor(
                project, MONITOR, model="fraud@prod", kinds="data-quality,drift,model-quality",
                window=WINDOW, labels=LABELS, label="is_fraud", label_key="request_id",
            )  # fmt: skip
            created = True
        with _quiet_alert_log():
            result = run_monitor(project, MONITOR, since=start, until=end)
        _read(result, found, out)
    return found


@contextmanager
def _quiet_alert_log() -> Iterator[None]:
    """The demo prints the alerts itself; the log notifier's one line per alert would repeat
    them above the summary (a CLI user without logging set up sees them on stderr)."""
    logger = logging.getLogger("shipyard.monitor")
    handler = logging.NullHandler()
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        yield
    finally:
        logger.propagate = propagate
        logger.removeHandler(handler)


def _read(result: MonitorResult, found: Watch, out: Console) -> None:
    for window in result.windows:
        if window.run is None:
            continue
        day = f"{window.start:%Y-%m-%d}"
        if window.run.html_uri:
            found.reports.append(window.run.html_uri)
        for section in window.run.report.get("sections", []):
            _section(section, day, window.refreshed, found, out)
        for alert in window.alerts:
            found.alerts.append(f"{alert.severity} {alert.violation} ({alert.kind})")


def _section(
    section: dict[str, Any], day: str, refreshed: bool, found: Watch, out: Console
) -> None:
    kind = section.get("kind")
    if kind == "drift" and not refreshed:
        violations = section.get("violations", [])
        columns = [v.get("evidence", {}).get("column") for v in violations]
        found.drifted[day] = [c for c in columns if c]
        out.print(f"  {day} drift: {section.get('summary', '')}"[:300])
    elif kind == "data-quality" and not refreshed:
        out.print(f"  {day} data quality: {section.get('summary', '')}"[:200])
    elif kind == "model-quality":
        how = "labels arrived: " if refreshed else ""
        out.print(f"  {day} model quality: {how}{section.get('summary', '')}")
        measured = (section.get("measured") or {}).get("metrics", {}).get("roc_auc") or {}
        estimated = (section.get("estimated") or {}).get("roc_auc")
        if measured.get("value") is not None:
            found.measured[day] = float(measured["value"])
        elif estimated is not None:
            found.estimated[day] = float(estimated)
        base = (section.get("baseline") or {}).get("roc_auc") or {}
        if base.get("value") is not None:
            found.baseline_auc = float(base["value"])
