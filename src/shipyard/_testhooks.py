"""Fault injection for the crash tests, and nothing else.

``SHIPYARD_TEST_CRASH_AT=<point>`` makes the process kill itself with SIGKILL (no cleanup, no
``finally``) when it reaches ``crash_point("<point>")``, so a test can check what a kill -9 at
that moment leaves behind. The points: ``after_bundle`` (training: the bundle is written and
its version registered, the report not yet), ``ingest_staged`` (ingest: the Parquet files are
staged, not yet published). Never set it outside tests.
"""

from __future__ import annotations

import os
import signal

__all__ = ["crash_point"]

CRASH_AT = "SHIPYARD_TEST_CRASH_AT"


def crash_point(name: str) -> None:
    """Die here, like a kill -9, when the test hook names this point."""
    if os.environ.get(CRASH_AT) == name:
        os.kill(os.getpid(), signal.SIGKILL)
