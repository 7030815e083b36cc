"""WAL checkpoints of the embedded store on a background thread.

A read-modify-write batch of a few thousand entities dirties as many pages; copying them from
the WAL back into the database file (the checkpoint) costs as much as the batch itself. Run
there, it keeps a writer's commit to appending to the WAL, and uses the machine's other core.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

__all__ = ["Checkpointer"]


class Checkpointer:
    """Runs ``PRAGMA wal_checkpoint(PASSIVE)`` after commits, off the writer's thread.

    PASSIVE never blocks readers or writers; what it cannot copy yet (a reader still uses an
    older snapshot) the next round copies. The writers' own automatic checkpoint stays on, at
    a larger size, as the fallback if this thread falls behind.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def poke(self) -> None:
        """Ask for a checkpoint soon (after a write transaction committed)."""
        if self._thread is None:
            with self._lock:
                if self._thread is None and not self._stop:
                    self._thread = threading.Thread(
                        target=self._run, name="shipyard-online-checkpoint", daemon=True
                    )
                    self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, timeout=30.0, isolation_level=None)
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._stop:
                    return
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    continue  # busy or failing: the next commit asks again
        finally:
            conn.close()

    def close(self) -> None:
        """Stop the thread (after its current checkpoint)."""
        with self._lock:
            self._stop = True
            thread, self._thread = self._thread, None
        self._wake.set()
        if thread is not None:
            thread.join(timeout=30.0)
