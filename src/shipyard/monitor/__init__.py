"""The monitor room: drift between two tables (and, later, baselines, monitors and alerts).

:func:`compare` is the drift function every face and every monitor calls; its result, a
:class:`DriftReport`, turns into strict JSON and a self-contained HTML page.

Names load on first use, as in :mod:`shipyard`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard._lazy import lazy_exports

if TYPE_CHECKING:
    from shipyard.monitor._source import DriftInput
    from shipyard.monitor.drift import (
        DRIFT_VERSION,
        ColumnDrift,
        DriftReport,
        MultivariateDrift,
        compare,
    )
    from shipyard.monitor.drift_html import render_drift_html

_EXPORTS = {
    "DriftInput": "._source",
    "DRIFT_VERSION": ".drift",
    "ColumnDrift": ".drift",
    "DriftReport": ".drift",
    "MultivariateDrift": ".drift",
    "compare": ".drift",
    "render_drift_html": ".drift_html",
}

__all__ = [
    "DRIFT_VERSION",
    "ColumnDrift",
    "DriftInput",
    "DriftReport",
    "MultivariateDrift",
    "compare",
    "render_drift_html",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
