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
from datetime import UTC, datetime, timedelta
from types import TracebackType

from shipyard.catalog import Catalog
from shipyard.entities import Actor, Run
from shipyard.staging import process_alive

__all__ = ["HEARTBEAT_SECONDS", "STALE_AFTER", "Heartbeat", "fail_dead_runs"]

log = logging.getLogger("shipyard.tracking")

HEARTBEAT_SECONDS = 30.0
STALE_AFTER = timedelta(minutes=5)  # ten missed heartbeats


class Heartbeat:
    """While open, a daemon thread marks this process's running runs alive every
    ``every`` seconds. A failed beat is logged, never raised: training goes on."""

    def __init__(self, catalog: Catalog, every: float = HEARTBEAT_SECONDS) -> None:
        self.catalog = catalog
        self.every = every
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
                self.catalog.heartbeat(host, pid)
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
    if run.host == socket.gethostname() and run.pid is not None:
        if run.pid == os.getpid() or _alive_since(run.pid, run.started_at):
            return None
        return (
            f"Its process (pid {run.pid} on {run.host}) ended without finishing the run: "
            "killed, out of memory, or stopped."
        )
    last = run.heartbeat_at or run.started_at
    if now - last <= stale_after:
        return None
    minutes = int(stale_after.total_seconds() // 60)
    return (
        f"No heartbeat from {run.host or 'its process'} since {last:%Y-%m-%d %H:%M:%S} UTC "
        f"(more than {minutes} min): taken for dead."
    )


def _alive_since(pid: int, started_at: datetime) -> bool:
    """Whether process ``pid`` exists and already existed when the run started."""
    latest = started_at + timedelta(seconds=1)
    return process_alive(pid, lambda t: datetime.fromtimestamp(t, UTC) <= latest)
