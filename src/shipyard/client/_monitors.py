"""Monitors and alerts through the REST API (``server/api/monitors.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from shipyard.client._decode import decode
from shipyard.client._http import HttpBase, segment
from shipyard.entities import Alert, Monitor, MonitorRun
from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    from shipyard.monitor import MonitorResult, MonitorStatus

__all__ = ["MonitorsMixin"]


class MonitorsMixin(HttpBase):
    def list_monitors(self) -> list[MonitorStatus]:
        """Every monitor with its latest run and open alerts."""
        from shipyard.monitor import MonitorStatus

        return [decode(MonitorStatus, m) for m in self._walk("/monitors")]

    def show_monitor(self, name: str) -> MonitorStatus:
        """A monitor's settings, latest run, open alerts and next scheduled time."""
        from shipyard.monitor import MonitorStatus

        result: MonitorStatus = decode(MonitorStatus, self._get(f"/monitors/{segment(name)}"))
        return result

    def monitor_history(self, name: str, *, limit: int = 50) -> list[MonitorRun]:
        """The runs of a monitor, latest window first."""
        items = self._walk(f"/monitors/{segment(name)}/runs", limit)
        return [decode(MonitorRun, r) for r in items]

    def run_monitor(
        self,
        name: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        force: bool = False,
    ) -> MonitorResult:
        """Run a monitor on the server over each window not run yet (or ``[since, until)``)."""
        from shipyard.monitor import MonitorResult, WindowResult

        body = {
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "force": force,
        }
        answer = self._post(f"/monitors/{segment(name)}/run", body)
        windows = tuple(decode(WindowResult, w) for w in answer["windows"])
        return MonitorResult(decode(Monitor, answer["monitor"]), answer["model"], windows)

    def list_alerts(self, *, monitor: str | None = None, open_only: bool = False) -> list[Alert]:
        """Alerts, newest first, of one monitor or all, open ones only or all."""
        status = "open" if open_only else None
        return [decode(Alert, a) for a in self._walk("/alerts", monitor=monitor, status=status)]

    def ack_alert(self, alert_id: int | str, *, comment: str | None = None) -> Alert:
        """Acknowledge an open alert."""
        try:
            number = int(str(alert_id))
        except ValueError:
            raise InvalidInput(
                f"An alert id is a whole number. Got {alert_id!r} instead."
            ) from None
        answer = self._post(f"/alerts/{number}/ack", {"comment": comment})
        result: Alert = decode(Alert, answer)
        return result
