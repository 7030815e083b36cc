"""The shadow variant's queue: copies of answered requests, scored off the request path.

The request path only appends a copy (the body it already read) to a bounded queue; when
the queue is full the copy is dropped and counted, never waited for. A worker thread takes
what has gathered, scores each variant's copies in one batch (one model call for many rows
costs far less than one per request) and captures them. Nothing it does reaches a response.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shipyard.serve._variants import VariantScorer

__all__ = ["ShadowQueue"]

log = logging.getLogger("shipyard.serve")

_STOP: Any = object()


class ShadowQueue:
    """Shadow copies waiting to be scored, and the thread that scores them.

    Args:
        size: Most copies waiting; past it new ones are dropped (and counted).
        batch: Most copies scored in one go.
        linger: Seconds the worker waits, once a copy arrives, for more to join its batch:
            under load a wake-up then scores dozens of copies at once, and the worker takes
            the interpreter lock from the request path rarely.
    """

    def __init__(self, size: int, *, batch: int = 256, linger: float = 0.02) -> None:
        self._queue: queue.Queue[Any] = queue.Queue(size)
        self._batch = batch
        self._linger = linger
        self.dropped = 0  # written by the event loop only
        self.scored = 0  # written by the worker only, as is failed
        self.failed = 0
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="shipyard-shadow", daemon=True)
        self._thread.start()

    def put(
        self, scorer: VariantScorer, request_id: str, path: str, body: bytes, media: bytes
    ) -> bool:
        """Queue a copy of an answered request for ``scorer``; False when it was dropped
        (the queue is full, or closed). Never blocks."""
        if self._closed:
            self.dropped += 1
            return False
        scorer.queued += 1
        try:
            self._queue.put_nowait((scorer, (request_id, path, body, media, time.perf_counter())))
        except queue.Full:
            scorer.queued -= 1
            self.dropped += 1
            return False
        return True

    @property
    def waiting(self) -> int:
        return self._queue.qsize()

    def join(self) -> None:
        """Wait until every copy queued so far has been scored (tests, shutdown)."""
        self._queue.join()

    def close(self, timeout: float | None = 30.0) -> None:
        """Stop taking copies, score those waiting, stop the thread (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                self._queue.task_done()
                return
            batch = [item]
            stop = False
            if self._linger and not self._closed and self._queue.qsize() < self._batch:
                time.sleep(self._linger)
            while len(batch) < self._batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stop = True
                    break
                batch.append(more)
            self._score(batch)
            for _ in range(len(batch) + stop):
                self._queue.task_done()
            if stop:
                return

    def _score(self, batch: list[tuple[VariantScorer, Any]]) -> None:
        by_scorer: dict[int, tuple[VariantScorer, list[Any]]] = {}
        for scorer, copy in batch:
            by_scorer.setdefault(id(scorer), (scorer, []))[1].append(copy)
        for scorer, copies in by_scorer.values():
            try:
                bad = scorer.score_copies(copies)
                self.scored += len(copies) - bad
                self.failed += bad
            except Exception:
                log.exception(
                    "The shadow %s failed to score %d copies.", scorer.variant, len(copies)
                )
                self.failed += len(copies)
            finally:
                scorer.dequeued += len(copies)
