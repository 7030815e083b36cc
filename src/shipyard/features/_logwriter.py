"""A background writer of the offline event log, for request paths that apply events online.

A request that applies an event must not write a Parquet file: the online update is done
synchronously, and the event is handed to this writer, whose thread appends what has
accumulated per group as one log part every ``flush_seconds`` (or ``flush_rows`` rows), like
the capture writer does for captures. :meth:`EventLogWriter.close` writes what is left.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

import pyarrow as pa

from shipyard.features._log import append_log

if TYPE_CHECKING:
    from shipyard.project import Project

__all__ = ["EventLogWriter"]

log = logging.getLogger("shipyard.features")


class EventLogWriter:
    """Buffers applied events per group and appends them to the offline log in the background.

    :meth:`add` never does I/O. Events of one group are written in the order they were added
    (the order that breaks ties between equal timestamps). Thread safe.

    Args:
        project: The project whose log is appended to.
        flush_rows: Buffered events (all groups) that trigger a write.
        flush_seconds: Longest time an event waits before it is written.
    """

    def __init__(self, project: Project, *, flush_rows: int = 10_000, flush_seconds: float = 1.0):
        self.project = project
        self.flush_rows = flush_rows
        self.flush_seconds = flush_seconds
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._pending: dict[str, list[pa.Table]] = {}
        self._rows = 0
        self._written = 0
        self._failures = 0
        self._closed = False
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def written(self) -> int:
        """Events appended to the log so far."""
        return self._written

    @property
    def buffered(self) -> int:
        """Events waiting to be written."""
        return self._rows

    def add(self, group: str, table: pa.Table) -> int:
        """Queue ``table``'s events for ``group``'s log; returns how many were queued.

        After :meth:`close` the events are written at once (nothing is lost).
        """
        if table.num_rows == 0:
            return 0
        with self._lock:
            closed = self._closed
            if not closed:
                self._pending.setdefault(group, []).append(table)
                self._rows += table.num_rows
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="shipyard-feature-log", daemon=True
                    )
                    self._thread.start()
                if self._rows >= self.flush_rows:
                    self._wake.set()
        if closed:
            return append_log(self.project, group, table)
        return table.num_rows

    def flush(self) -> None:
        """Write every buffered event now."""
        with self._write_lock:
            with self._lock:
                pending, self._pending, self._rows = self._pending, {}, 0
            for group, tables in pending.items():
                try:
                    self._written += append_log(self.project, group, pa.concat_tables(tables))
                except Exception:  # a failed write must not kill the thread; it is logged
                    self._failures += 1
                    log.exception("Could not append %d events to the log of group %s",
                                  sum(t.num_rows for t in tables), group)  # fmt: skip

    def close(self) -> None:
        """Write what is buffered and stop the thread (idempotent)."""
        with self._lock:
            self._closed = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join()
        self.flush()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            self.flush()
            if self._closed:
                return
