"""The monitor room: drift between two tables, baselines, monitors and alerts.

:func:`compare` is the drift function every face and every monitor calls; its result, a
:class:`DriftReport`, turns into strict JSON and a self-contained HTML page.

Names load on first use, as in :mod:`shipyard`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard._lazy import lazy_exports

if TYPE_CHECKING:
    from shipyard.monitor._runner import MonitorResult, WindowResult, run_monitor
    from shipyard.monitor._source import DriftInput
    from shipyard.monitor.alerts import ack_alert, alerts_page, list_alerts
    from shipyard.monitor.baseline import (
        BASELINE_KIND,
        StoredBaseline,
        baseline_seconds,
        build_baseline,
        create_baseline,
        load_baseline,
    )
    from shipyard.monitor.drift import (
        DRIFT_VERSION,
        ColumnDrift,
        DriftReport,
        MultivariateDrift,
        compare,
    )
    from shipyard.monitor.drift_html import render_drift_html
    from shipyard.monitor.monitors import (
        KINDS,
        MonitorStatus,
        create_monitor,
        list_monitors,
        monitor_history,
        monitors_page,
        show_monitor,
    )
    from shipyard.monitor.series import MonitorSeries, Point, Series, monitor_series

_EXPORTS = {
    "DriftInput": "._source",
    "DRIFT_VERSION": ".drift",
    "ColumnDrift": ".drift",
    "DriftReport": ".drift",
    "MultivariateDrift": ".drift",
    "compare": ".drift",
    "render_drift_html": ".drift_html",
    "MonitorResult": "._runner",
    "WindowResult": "._runner",
    "run_monitor": "._runner",
    "ack_alert": ".alerts",
    "alerts_page": ".alerts",
    "list_alerts": ".alerts",
    "BASELINE_KIND": ".baseline",
    "StoredBaseline": ".baseline",
    "baseline_seconds": ".baseline",
    "build_baseline": ".baseline",
    "create_baseline": ".baseline",
    "load_baseline": ".baseline",
    "KINDS": ".monitors",
    "MonitorStatus": ".monitors",
    "create_monitor": ".monitors",
    "list_monitors": ".monitors",
    "monitor_history": ".monitors",
    "monitors_page": ".monitors",
    "show_monitor": ".monitors",
    "MonitorSeries": ".series",
    "Point": ".series",
    "Series": ".series",
    "monitor_series": ".series",
}

__all__ = [
    "BASELINE_KIND",
    "DRIFT_VERSION",
    "KINDS",
    "ColumnDrift",
    "DriftInput",
    "DriftReport",
    "MonitorResult",
    "MonitorSeries",
    "MonitorStatus",
    "MultivariateDrift",
    "Point",
    "Series",
    "StoredBaseline",
    "WindowResult",
    "ack_alert",
    "alerts_page",
    "baseline_seconds",
    "build_baseline",
    "compare",
    "create_baseline",
    "create_monitor",
    "list_alerts",
    "list_monitors",
    "load_baseline",
    "monitor_history",
    "monitor_series",
    "monitors_page",
    "render_drift_html",
    "run_monitor",
    "show_monitor",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
