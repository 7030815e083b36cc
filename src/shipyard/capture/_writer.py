"""CaptureWriter: captured rows into hourly Parquet files, written by a background thread."""

from __future__ import annotations

import io
import logging
import threading
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from shipyard.capture._bulk import JsonRows, inputs_from_json
from shipyard.capture._layout import capture_key
from shipyard.capture._rows import (
    assemble,
    inputs_from_arrow,
    inputs_from_records,
    request_ids,
)
from shipyard.capture._schema import input_schema, masked_columns
from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    from shipyard.artifacts import ArtifactStore
    from shipyard.settings import Settings

__all__ = ["CaptureStats", "CaptureWriter", "RowSource", "is_sampled"]

RowSource = Sequence[Mapping[str, Any]] | Callable[[], Sequence[Mapping[str, Any]]] | JsonRows
"""A request's rows, or a function that parses them again on the writer's thread (so the
request path keeps no parsed rows alive: fewer objects for the garbage collector), or the
JSON body itself (:class:`JsonRows`: all of a flush's bodies are parsed in one go)."""

Labels = np.ndarray | Callable[[], np.ndarray | None] | None
"""A request's decisions as class labels, a function giving them, or None (regression)."""

log = logging.getLogger("shipyard.capture")

_HOUR_US = 3_600 * 1_000_000
_BUCKETS = 10_000  # sampling resolution: 0.01 %


def is_sampled(request_id: str, percent: float) -> bool:
    """Whether a request is captured at ``percent`` (0-100): decided by a hash of its id, so
    the same id gets the same answer in every process and on every replay."""
    if percent >= 100:
        return True
    if percent <= 0:
        return False
    return zlib.crc32(request_id.encode()) % _BUCKETS < percent * (_BUCKETS // 100)


@dataclass(frozen=True)
class CaptureStats:
    """Counts since the writer started: rows ``written`` to files, rows ``dropped`` (buffer
    full, writer closed, or a write that failed), ``files`` published, ``failures`` (writes
    that failed) and rows ``buffered`` now."""

    written: int
    dropped: int
    files: int
    failures: int
    buffered: int


class _Pending:
    """The buffered requests, column by column: appending adds no container per request."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.times: list[int] = []
        self.latencies: list[float] = []
        self.counts: list[int] = []
        self.rows: list[RowSource] = []
        self.scores: list[np.ndarray] = []
        self.labels: list[Labels] = []


class CaptureWriter:
    """Captured rows of one model version, written as Parquet in the background.

    :meth:`add` is the request path: it only appends to a bounded in-memory buffer (no I/O,
    no conversion). A daemon thread turns the buffer into Arrow, splits it by the UTC hour of
    ``captured_at`` and publishes one file per hour under
    ``captures/<model>/v<version>/date=<d>/hour=<h>/part-<uuid>.parquet`` whenever
    ``flush_rows`` rows are waiting or every ``flush_seconds``. When the buffer holds
    ``max_buffer_rows``, further rows are dropped and counted, never queued. :meth:`close`
    writes what is buffered and stops the thread. Thread safe.

    Args:
        store: The artifact store to write into.
        model: The model's name.
        version: The model version.
        signature: The model's input signature (``{"inputs": [{"name", "type"}, ...]}``).
        percent: Share of requests captured, 0-100 (see :func:`is_sampled`).
        variant: The endpoint variant these rows come from, if any.
        max_buffer_rows: Most rows held in memory before new ones are dropped.
        flush_rows: Rows waiting that trigger a write.
        flush_seconds: Longest time a row waits before it is written.
        mask: More input columns whose values must not be kept (written as null), besides
            those the signature tags as personal data (:func:`masked_columns`).
        hashed: Input columns stored as a keyed hash of their values (text) instead:
            ``{column: HMAC key in hex}`` (see :func:`capture_privacy`).

    Raises:
        InvalidInput: A parameter is out of range, or the signature cannot be captured.
    """

    def __init__(
        self,
        store: ArtifactStore,
        model: str,
        version: int,
        signature: Mapping[str, Any],
        *,
        percent: float = 100.0,
        variant: str | None = None,
        max_buffer_rows: int = 100_000,
        flush_rows: int = 10_000,
        flush_seconds: float = 10.0,
        mask: Sequence[str] = (),
        hashed: Mapping[str, str] | None = None,
    ) -> None:
        _check(percent, max_buffer_rows, flush_rows, flush_seconds)
        self.store = store
        self.model = model
        self.version = int(version)
        self.percent = float(percent)
        self.variant = variant
        self.max_buffer_rows = max_buffer_rows
        self.flush_rows = flush_rows
        self.flush_seconds = flush_seconds
        self.schema = input_schema(signature)
        self.hashed = dict(hashed or {})
        masked_columns(signature, list(self.hashed))  # refuses a column the model lacks
        self.masked = tuple(c for c in masked_columns(signature, mask) if c not in self.hashed)
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._pending = _Pending()
        self._buffered = 0
        self._written = self._dropped = self._files = self._failures = 0
        self._closed = False
        self._wake = threading.Event()
        self.warmed = threading.Event()  # set once the start-up warm-up flush succeeded
        self._thread = threading.Thread(
            target=self._run, name=f"shipyard-capture-{model}-v{version}", daemon=True
        )
        self._thread.start()

    @classmethod
    def from_settings(
        cls,
        store: ArtifactStore,
        settings: Settings,
        model: str,
        version: int,
        signature: Mapping[str, Any],
        *,
        percent: float = 100.0,
        variant: str | None = None,
        mask: Sequence[str] = (),
        hashed: Mapping[str, str] | None = None,
    ) -> CaptureWriter:
        """A writer sized by the ``capture_*`` settings (buffer, flush rows and seconds)."""
        return cls(
            store,
            model,
            version,
            signature,
            percent=percent,
            variant=variant,
            max_buffer_rows=settings.capture_buffer_rows,
            flush_rows=settings.capture_flush_rows,
            flush_seconds=settings.capture_flush_seconds,
            mask=mask,
            hashed=hashed,
        )

    # --- the request path ------------------------------------------------------------------
    def sampled(self, request_id: str) -> bool:
        """Whether the request ``request_id`` is to be captured at this writer's percentage."""
        return is_sampled(request_id, self.percent)

    def add(
        self,
        request_id: str,
        rows: RowSource,
        scores: np.ndarray,
        labels: Labels,
        latency_ms: float,
        *,
        count: int | None = None,
    ) -> bool:
        """Buffer one scored request; never blocks on I/O and converts nothing.

        Args:
            request_id: The request's id (rows of a request of several get ``-<i>``).
            rows: Its rows, or a function returning them (called later, off the request
                path); then ``count`` gives their number.
            scores: One score per row (2-D: class probabilities).
            labels: The decisions as class labels, or None (regression), or a function
                returning them (called on the writer's thread).
            latency_ms: The time the request took.

        Returns:
            False when the rows were dropped: the buffer is full or the writer closed.
        """
        n = len(rows) if count is None else count  # type: ignore[arg-type]
        now = time.time_ns() // 1000
        with self._lock:
            if self._closed or self._buffered + n > self.max_buffer_rows:
                self._dropped += n
                return False
            p = self._pending
            p.ids.append(request_id)
            p.times.append(now)
            p.latencies.append(latency_ms)
            p.counts.append(n)
            p.rows.append(rows)
            p.scores.append(scores)
            p.labels.append(labels)
            self._buffered += n
            full = self._buffered >= self.flush_rows
        if full:
            self._wake.set()
        return True

    # --- writing ---------------------------------------------------------------------------
    def flush(self) -> int:
        """Write what is buffered now, in the calling thread; returns the rows written."""
        with self._lock:
            pending, self._pending = self._pending, _Pending()
            rows = sum(pending.counts)
            self._buffered -= rows
        if not rows:
            return 0
        try:
            table = self._table(pending)
        except Exception:
            log.exception("Could not convert %d captured rows; dropped them.", rows)
            self._count(dropped=rows, failures=1)
            return 0
        return self._publish(table)

    def write_table(
        self,
        inputs: pa.Table,
        scores: np.ndarray,
        labels: np.ndarray | None,
        *,
        request_id: pa.Array | Sequence[str] | None = None,
        latency_ms: float | None = None,
        captured_us: np.ndarray | None = None,
    ) -> int:
        """Capture already-scored rows now, in the calling thread (batch transform).

        Args:
            inputs: The scored rows, with at least the model's input columns.
            scores: Their scores (2-D: class probabilities).
            labels: Their decisions as class labels, or None (regression).
            request_id: One id per row; default: the table's ``request_id`` column, else
                ``batch-<hex>-<row>``.
            latency_ms: Time spent per row; default: null.
            captured_us: When each row was scored, in µs since the epoch (a replay on a
                simulated clock); default: now.

        Returns:
            The rows written.
        """
        n = inputs.num_rows
        if n == 0:
            return 0
        if request_id is None and "request_id" in inputs.column_names:
            request_id = _as_strings(inputs.column("request_id"))
        if request_id is None:
            request_id = request_ids([f"batch-{_hex()}"], np.array([n]), None)
        table = assemble(
            request_ids=pa.array(request_id, pa.string()),
            captured_us=(
                np.full(n, time.time_ns() // 1000, dtype=np.int64)
                if captured_us is None
                else np.asarray(captured_us, dtype=np.int64)
            ),
            model=self.model,
            version=self.version,
            variant=self.variant,
            latency_ms=np.full(n, np.nan if latency_ms is None else latency_ms),
            scores=scores,
            labels=labels,
            inputs=inputs_from_arrow(inputs, self.schema),
            masked=self.masked,
            hashed=self.hashed,
        )
        return self._publish(table)

    def close(self, timeout: float | None = 30.0) -> None:
        """Stop accepting rows, write what is buffered, and stop the thread (idempotent)."""
        with self._lock:
            self._closed = True
        self._wake.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self.flush()

    @property
    def stats(self) -> CaptureStats:
        """The counts so far."""
        with self._lock:
            return CaptureStats(
                self._written, self._dropped, self._files, self._failures, self._buffered
            )

    # --- internals -------------------------------------------------------------------------
    def _run(self) -> None:
        self._warm_up()
        while True:
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            self.flush()
            with self._lock:
                if self._closed:
                    return

    def _warm_up(self) -> None:
        """Convert and encode one full flush of made-up rows, written nowhere, so the memory
        a flush needs (Arrow's pool, Parquet's writer, the interpreter's arenas) is taken at
        start-up: the server's resident memory then stays flat from its first requests,
        instead of stepping up at the first real flush."""
        n = min(self.flush_rows, self.max_buffer_rows)
        row = {f.name: _PLACEHOLDERS.get(str(f.type)) for f in self.schema}
        warm = _Pending()
        warm.ids, warm.times, warm.latencies = ["warm-up"], [time.time_ns() // 1000], [0.0]
        warm.counts, warm.rows = [n], [[row] * n]
        warm.scores, warm.labels = [np.zeros(n)], [None]
        try:
            _parquet(self._table(warm))
            self.warmed.set()
        except Exception:  # a warm-up must never stop the server; the real flush will tell
            log.debug("Capture warm-up failed", exc_info=True)

    def _table(self, pending: _Pending) -> pa.Table:
        counts = np.asarray(pending.counts, dtype=np.int64)
        inputs, own_ids = self._inputs(pending.rows, counts)
        labels = [x() if callable(x) else x for x in pending.labels]
        return assemble(
            request_ids=request_ids(pending.ids, counts, own_ids),
            captured_us=np.repeat(pending.times, counts),
            model=self.model,
            version=self.version,
            variant=self.variant,
            latency_ms=np.repeat(pending.latencies, counts),
            scores=np.concatenate(pending.scores),
            labels=None if any(x is None for x in labels) else np.concatenate(labels),  # type: ignore[arg-type]
            inputs=inputs,
            masked=self.masked,
            hashed=self.hashed,
        )

    def _inputs(
        self, sources: Sequence[RowSource], counts: np.ndarray
    ) -> tuple[pa.Table, pa.Array | None]:
        """The input columns of the buffered requests, in order: the JSON bodies in one bulk
        read, the rest (CSV, positional rows, near types) parsed one by one."""
        bulk = np.fromiter((isinstance(s, JsonRows) for s in sources), bool, len(sources))
        if not bulk.any():
            return self._parsed(sources)
        fast = [s for s, b in zip(sources, bulk, strict=True) if b]
        got = inputs_from_json(fast, counts[bulk], self.schema)  # type: ignore[arg-type]
        if got is None:
            got = self._parsed(fast)
        if bulk.all():
            return got
        rest = self._parsed([s for s, b in zip(sources, bulk, strict=True) if not b])
        table = pa.concat_tables([got[0], rest[0]])
        ids = None
        if got[1] is not None or rest[1] is not None:
            ids = pa.chunked_array(
                [pa.nulls(t.num_rows, pa.string()) if x is None else x for t, x in (got, rest)],
                pa.string(),
            ).combine_chunks()
        # Back into request order: bulk rows then the others were concatenated.
        flag = np.repeat(bulk, counts)
        order = np.empty(len(flag), dtype=np.int64)
        order[flag] = np.arange(int(flag.sum()))
        order[~flag] = int(flag.sum()) + np.arange(int((~flag).sum()))
        rows = table.take(order)
        return rows, None if ids is None else ids.take(pa.array(order))

    def _parsed(self, sources: Sequence[RowSource]) -> tuple[pa.Table, pa.Array | None]:
        parsed = (r() if callable(r) else r for r in sources)
        table, ids = inputs_from_records(list(chain.from_iterable(parsed)), self.schema)
        if isinstance(ids, pa.ChunkedArray):
            ids = ids.combine_chunks()
        return table, ids

    def _publish(self, table: pa.Table) -> int:
        """Write ``table`` as one file per UTC hour; returns the rows written."""
        stamps = table.column("captured_at").cast(pa.int64()).to_numpy()
        hours = stamps // _HOUR_US
        written = 0
        with self._write_lock:
            for hour in np.unique(hours):
                part = table.filter(pa.array(hours == hour))
                at = datetime.fromtimestamp(int(hour) * 3600, UTC)
                try:
                    self.store.put_bytes(capture_key(self.model, self.version, at), _parquet(part))
                except Exception:  # the store is down or full: count, log, keep serving
                    log.exception("Could not write %d captured rows; dropped them.", len(part))
                    self._count(dropped=part.num_rows, failures=1)
                    continue
                written += part.num_rows
                self._count(written=part.num_rows, files=1)
        return written

    def _count(
        self, *, written: int = 0, dropped: int = 0, files: int = 0, failures: int = 0
    ) -> None:
        with self._lock:
            self._written += written
            self._dropped += dropped
            self._files += files
            self._failures += failures


_PLACEHOLDERS: dict[str, Any] = {"double": 0.0, "int64": 0, "string": "", "bool": False}


def _as_strings(column: pa.ChunkedArray) -> pa.Array:
    """A column as strings (ids may be stored as numbers)."""
    return pc.cast(column.combine_chunks(), pa.string())


def _parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    # Snappy: a quarter cheaper than zstd here for 4 % more bytes (random floats barely
    # compress); the writer's CPU is taken from the requests on a small machine.
    pq.write_table(table, sink, compression="snappy")
    return sink.getvalue()


def _hex() -> str:
    import uuid

    return uuid.uuid4().hex[:12]


def _check(percent: float, max_buffer_rows: int, flush_rows: int, flush_seconds: float) -> None:
    if not isinstance(percent, int | float) or not 0 <= percent <= 100:
        raise InvalidInput(
            f"The capture percentage must be a number from 0 to 100. Got {percent!r} instead."
        )
    for name, value in (("max_buffer_rows", max_buffer_rows), ("flush_rows", flush_rows)):
        if not isinstance(value, int) or value < 1:
            raise InvalidInput(
                f"The '{name}' parameter of CaptureWriter must be a positive whole number. "
                f"Got {value!r} instead."
            )
    if not flush_seconds > 0:
        raise InvalidInput(
            "The 'flush_seconds' parameter of CaptureWriter must be a positive number of "
            f"seconds. Got {flush_seconds!r} instead."
        )
