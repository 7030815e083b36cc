"""The catalog's monitor methods: part of :class:`~shipyard.catalog.base.Catalog`'s contract,
which states the rules every method follows (thread safety, one transaction, audit, errors)."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from datetime import datetime

from shipyard.entities import Actor, Alert, Monitor, MonitorRun
from shipyard.types import JSON

__all__ = ["MonitorPort"]


class MonitorPort(abc.ABC):
    """Monitors, their runs per window, and the alerts they raise."""

    # --- monitors -------------------------------------------------------------------------
    @abc.abstractmethod
    def create_monitor(
        self,
        name: str,
        *,
        model: str,
        kinds: Sequence[str],
        schedule: str | None,
        window_seconds: int,
        labels: JSON,
        action: str | None,
        webhook: JSON,
        actor: Actor,
    ) -> Monitor:
        """Record a new monitor and return it.

        Raises:
            AlreadyExists: A monitor has that name.
            InvalidInput: A value the catalog cannot store.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def get_monitor(self, name: str) -> Monitor:
        """The monitor called ``name``.

        Raises:
            NotFound: No such monitor; the message suggests a close name.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def list_monitors(self) -> list[Monitor]:
        """Every monitor, by name; [] when none.

        Raises:
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def record_monitor_run(
        self,
        monitor: str,
        *,
        window_start: datetime,
        window_end: datetime,
        status: str,
        report: JSON,
        html_uri: str | None,
        alerts: Sequence[JSON],
        replace: bool = False,
        violations: int | None = None,
        actor: Actor,
    ) -> tuple[MonitorRun, list[Alert]]:
        """Store the run of ``monitor`` over one window and the alerts it raised (each
        ``{"severity", "kind", "violation", "evidence"}``, stored ``open``), in one
        transaction. ``violations`` is the run's count (default: the alerts given; a run
        refreshed by late labels counts its earlier violations too).

        Raises:
            NotFound: No such monitor.
            AlreadyExists: That window was run already and ``replace`` is false; nothing was
                written. With ``replace`` the earlier run of the window is replaced (its
                alerts stay).
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def list_monitor_runs(self, monitor: str, *, limit: int = 100) -> list[MonitorRun]:
        """The runs of ``monitor``, latest window first, at most ``limit``; [] when none.

        Raises:
            NotFound: No such monitor.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def list_alerts(self, *, monitor: str | None = None, status: str | None = None) -> list[Alert]:
        """Alerts, newest first, optionally of one monitor and one status (open, acked).

        Raises:
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def count_alerts(self, *, monitor: str | None = None, status: str | None = None) -> int:
        """How many alerts :meth:`list_alerts` would return, without reading them.

        Raises:
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def set_alert_notified(self, alert_id: int, notified: JSON) -> Alert:
        """Merge the outcome of notifiers (``{"webhook": "delivered", ...}``) into the alert.

        Raises:
            NotFound: No alert has that id.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def ack_alert(self, alert_id: int, *, comment: str | None, actor: Actor) -> Alert:
        """Acknowledge an open alert.

        Raises:
            NotFound: No alert has that id.
            Conflict: The alert was acknowledged already (the message says by whom).
            BackendUnavailable: The database cannot be reached or failed.
        """
