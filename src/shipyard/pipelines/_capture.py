"""A step's log: what it prints and logs while it runs, kept per step even when several steps
run at once in threads. While a run is open, ``sys.stdout``/``sys.stderr`` and a handler on
the ``shipyard`` logger route each write to the buffer of the step running in that thread
(a context variable), and everything else to where it went before."""

from __future__ import annotations

import io
import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TextIO

__all__ = ["capturing", "step_log"]

_BUFFER: ContextVar[list[str] | None] = ContextVar("shipyard_step_log", default=None)
_LOCK = threading.Lock()
_OPEN = 0
_SAVED: dict[str, object] = {}


class _Router(io.TextIOBase):
    def __init__(self, fallback: TextIO) -> None:
        self.fallback = fallback

    def write(self, text: str) -> int:
        buffer = _BUFFER.get()
        if buffer is None:
            return self.fallback.write(text)
        buffer.append(text)
        return len(text)

    def flush(self) -> None:
        if _BUFFER.get() is None:
            self.fallback.flush()

    def isatty(self) -> bool:
        return _BUFFER.get() is None and self.fallback.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.fallback, "encoding", "utf-8")

    def fileno(self) -> int:
        return self.fallback.fileno()


class _Handler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        buffer = _BUFFER.get()
        if buffer is not None:
            buffer.append(self.format(record) + "\n")


_HANDLER = _Handler()
_HANDLER.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))


@contextmanager
def capturing() -> Iterator[None]:
    """Route output per step while open (nested and concurrent runs share one router)."""
    global _OPEN
    with _LOCK:
        if _OPEN == 0:
            logger = logging.getLogger("shipyard")
            _SAVED.update(stdout=sys.stdout, stderr=sys.stderr, level=logger.level)
            sys.stdout = _Router(sys.stdout)
            sys.stderr = _Router(sys.stderr)
            logger.addHandler(_HANDLER)
            if logger.level == logging.NOTSET:
                logger.setLevel(logging.INFO)
        _OPEN += 1
    try:
        yield
    finally:
        with _LOCK:
            _OPEN -= 1
            if _OPEN == 0:
                sys.stdout = _SAVED["stdout"]
                sys.stderr = _SAVED["stderr"]
                logger = logging.getLogger("shipyard")
                logger.removeHandler(_HANDLER)
                logger.setLevel(_SAVED["level"])  # type: ignore[arg-type]


@contextmanager
def step_log() -> Iterator[list[str]]:
    """Collect this thread's output into the list yielded, for as long as the block runs."""
    buffer: list[str] = []
    token = _BUFFER.set(buffer)
    try:
        yield buffer
    finally:
        _BUFFER.reset(token)
