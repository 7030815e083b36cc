"""Keeping run statuses honest: a heartbeat while a job runs, and failing the runs whose
process died (killed, out of memory, machine lost) instead of leaving them "running".

A run records its host and pid. On the same host a dead run is certain: the pid is gone, or
now belongs to a process started after the run. From another host only silence can tell:
a run with no heartbeat for ``STALE_AFTER`` is taken for dead.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import TracebackType

from shipyard.catalog import Catalog
from shipyard.entities import Actor, Run
from shipyard.staging import process_alive

__all__ = ["HEARTBEAT_SECONDS", "STALE_AFTER", "Heartbeat", "dead_reason", "fail_dead_runs"]

log = logging.getLogger("shipyard.tracking")

HEARTBEAT_SECONDS = 30.0
STALE_AFTER = timedelta(minutes=5)  # ten missed heartbeats


class Heartbeat:
    """While open, a daemon thread marks this process's running runs alive every
    ``every`` seconds. A failed beat is logged, never raised: training goes on.

    ``beat`` is the catalog method that marks them, given this host and pid (default: the
    training runs' :meth:`~shipyard.catalog.Catalog.heartbeat`).
    """

    def __init__(
        self,
        catalog: Catalog,
        every: float = HEARTBEAT_SECONDS,
        *,
        beat: Callable[[str, int], int] | None = None,
    ) -> None:
        self.catalog = catalog
        self.every = every
        self._mark = beat or catalog.heartbeat
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="shipyard-heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def __enter__(self) -> Heartbeat:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _beat(self) -> None:
        host, pid = socket.gethostname(), os.getpid()
        while not self._stop.wait(self.every):
            try:
                self._mark(host, pid)
            except Exception:  # a busy or unreachable catalog must not stop training
                log.warning("Could not record a heartbeat", exc_info=True)


def fail_dead_runs(
    catalog: Catalog,
    actor: Actor,
    *,
    now: datetime | None = None,
    stale_after: timedelta = STALE_AFTER,
) -> list[Run]:
    """Mark failed every running run whose process is gone; returns them as failed."""
    now = now or datetime.now(UTC)
    failed = []
    for run in catalog.list_runs(status="running"):
        reason = _why_dead(run, now, stale_after)
        if reason:
            failed.append(catalog.finish_run(run.id, status="failed", error=reason, actor=actor))
    return failed


def fail_own_runs(catalog: Catalog, actor: Actor, experiment: str, error: str) -> list[Run]:
    """Mark failed the runs of ``experiment`` this process still has running: a trial whose
    run was created just before an interrupt, and so never reached its own failure path."""
    host, pid = socket.gethostname(), os.getpid()
    return [
        catalog.finish_run(run.id, status="failed", error=error, actor=actor)
        for run in catalog.list_runs(experiment, status="running")
        if run.host == host and run.pid == pid
    ]


def _why_dead(run: Run, now: datetime, stale_after: timedelta) -> str | None:
    return dead_reason(
        run.host, run.pid, run.started_at, run.heartbeat_at, now=now, stale_after=stale_after
    )


def dead_reason(
    host: str | None,
    pid: int | None,
    started_at: datetime,
    heartbeat_at: datetime | None,
    *,
    now: datetime,
    stale_after: timedelta = STALE_AFTER,
) -> str | None:
    """Why a running job of process ``pid`` on ``host`` is dead, or None while it lives: on
    this host its pid is gone (or reused since it started); elsewhere its heartbeat has
    been silent for longer than ``stale_after``."""
    if host == socket.gethostname() and pid is not None:
        if pid == os.getpid() or _alive_since(pid, started_at):
            return None
        return (
            f"Its process (pid {pid} on {host}) ended without finishing the run: "
            "killed, out of memory, or stopped."
        )
    last = heartbeat_at or started_at
    if now - last <= stale_after:
        return None
    minutes = int(stale_after.total_seconds() // 60)
    return (
        f"No heartbeat from {host or 'its process'} since {last:%Y-%m-%d %H:%M:%S} UTC "
        f"(more than {minutes} min): taken for dead."
    )


def _alive_since(pid: int, started_at: datetime) -> bool:
    """Whether process ``pid`` exists and already existed when the run started."""
    latest = started_at + timedelta(seconds=1)
    return process_alive(pid, lambda t: datetime.fromtimestamp(t, UTC) <= latest)
