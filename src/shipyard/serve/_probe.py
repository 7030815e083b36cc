"""A measuring process for ``shipyard recommend`` (:mod:`shipyard.deploy.recommend`): it loads a
model as ``shipyard serve`` does and answers commands.

The recommendation runs one per core it tries, each a fresh Python running
:func:`probe_fd` over a socket it inherits (not multiprocessing's spawn,
which re-runs a caller's script that lacks a ``__main__`` guard), so that each measures what
a serving process holds and nothing the parent did, and several can score at once to show
how throughput scales with worker processes. Single requests go through the
inference server's real ASGI app in-process (``/invocations``, JSON in and out, its
parsing, validation and metrics), so only the HTTP parsing of uvicorn is left out; batches
go through batch transform's own scoring step.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from shipyard.deploy import ProbeSetup

__all__ = ["peak_rss", "probe_fd", "probe_main", "reset_peak", "rss"]

_ROUTE = "/invocations"
_DISTINCT_REQUESTS = 1000
_WARM_UP = 50


def rss() -> int:
    """This process's resident memory, in bytes."""
    import psutil

    return int(psutil.Process().memory_info().rss)


def reset_peak() -> bool:
    """Start :func:`peak_rss` afresh from the current RSS (Linux; False where it cannot)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_rss() -> int | None:
    """The most resident memory this process has held since it started, or since
    :func:`reset_peak`, in bytes (None where the OS does not say)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import resource
    except ImportError:  # Windows
        import psutil

        return getattr(psutil.Process().memory_info(), "peak_wset", None)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def probe_main(conn: Connection) -> None:
    """The measuring process's loop: read the :class:`ProbeSetup`, then answer
    ``(command, kwargs)`` until ``stop`` (or the parent goes away).

    It first sends ``("ready", memory)`` or ``("error", text)``; then for each command
    ``("ok", result)`` or ``("error", text)``.
    """
    try:
        worker = _Worker(conn.recv())
    except BaseException as exc:
        conn.send(("error", _describe(exc)))
        return
    conn.send(("ready", worker.memory()))
    while True:
        try:
            command, kwargs = conn.recv()
        except EOFError:
            return
        if command == "stop":
            return
        try:
            conn.send(("ok", getattr(worker, command)(**kwargs)))
        except Exception as exc:
            conn.send(("error", _describe(exc)))


def _describe(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(exc)).strip()


class _Worker:
    def __init__(self, setup: ProbeSetup) -> None:
        import orjson
        import pyarrow.parquet as pq

        from shipyard.artifacts import load_verified_pickle
        from shipyard.registry import LoadedModel
        from shipyard.serve import create_app

        self.rss_imports = rss()
        folder = Path(setup.folder)
        model = load_verified_pickle(folder, "model.pkl", setup.signing_key)
        self.model = model
        self.table = pq.read_table(setup.rows_path)
        # The records a server would get: JSON-decoded, so timestamps arrive as strings.
        sample = self.table.slice(0, _DISTINCT_REQUESTS).to_pylist()
        self.records = orjson.loads(orjson.dumps(sample, default=str))
        self.bodies = [orjson.dumps({"instances": [r]}) for r in self.records]
        self.app = create_app(
            LoadedModel(setup.version, model, folder),
            max_body_bytes=setup.max_body_bytes,
            max_rows=setup.max_rows,
            metrics=setup.metrics,
        )
        self.latency(requests=_WARM_UP)
        # What `shipyard serve` does before it serves: a frozen heap keeps the collector
        # from walking the model again and again (latency spikes at p99).
        gc.collect()
        gc.freeze()
        self.load_peak = peak_rss()
        self.resets = reset_peak()

    def memory(self) -> dict[str, Any]:
        """RSS after the imports, now, its peak while loading the model, and since."""
        return {
            "rss_imports": self.rss_imports,
            "rss": rss(),
            "load_peak": self.load_peak,
            "peak": peak_rss(),
            "peak_resets": self.resets,
        }

    def latency(self, requests: int) -> dict[str, dict[str, float]]:
        """Single-row latency, ``requests`` each: the model alone (``predict_records``,
        one thread, as the server calls it) and through the ASGI app."""
        records = self.records
        model_ns = np.empty(requests, dtype=np.int64)
        predict = self.model.predict_records
        for i in range(requests):
            row = [records[i % len(records)]]
            started = time.perf_counter_ns()
            predict(row, threads=1)
            model_ns[i] = time.perf_counter_ns() - started
        app_ns = asyncio.run(_timed_requests(self.app, self.bodies, requests))
        return {"model": _stats(model_ns), "app": _stats(app_ns)}

    def serve(self, start_at: float, seconds: float) -> dict[str, float]:
        """From wall-clock ``start_at``, answer single-row requests back to back for
        ``seconds``; how many."""
        time.sleep(max(0.0, start_at - time.time()))
        return asyncio.run(_requests_for(self.app, self.bodies, seconds))

    def batch(self, rows: int, min_seconds: float, max_reps: int) -> dict[str, Any]:
        """Score batches of ``rows`` rows with one thread, as batch transform scores each
        batch: seconds per batch (median) and the process's peak memory."""
        from shipyard.deploy.batch import score_batch

        batch = _tiled(self.table, rows)
        gc.collect()
        before = rss()
        reset_peak()
        score_batch(self.model, batch, threads=1)  # warm, and the peak of the first
        times: list[float] = []
        while not times or (sum(times) < min_seconds and len(times) < max_reps):
            started = time.perf_counter()
            score_batch(self.model, batch, threads=1)
            times.append(time.perf_counter() - started)
        seconds = float(np.median(times))
        return {
            "rows": rows,
            "seconds": seconds,
            "reps": len(times),
            "rows_per_second": rows / seconds if seconds > 0 else None,
            "input_bytes": batch.nbytes,
            "rss_before": before,
            "peak_rss": peak_rss(),
        }


def _tiled(table: Any, rows: int) -> Any:
    """A record batch of exactly ``rows`` rows, the table repeated as often as needed."""
    import pyarrow as pa

    copies = -(-rows // max(table.num_rows, 1))
    tiled = pa.concat_tables([table] * copies).slice(0, rows).combine_chunks()
    return tiled.to_batches(max_chunksize=rows)[0]


def _stats(ns: np.ndarray) -> dict[str, float]:
    ms = ns / 1e6
    p50, p90, p99 = np.percentile(ms, [50, 90, 99])
    return {
        "requests": len(ms),
        "mean_ms": float(ms.mean()),
        "p50_ms": float(p50),
        "p90_ms": float(p90),
        "p99_ms": float(p99),
    }


def _scope() -> dict[str, Any]:
    return {
        "type": "http",
        "method": "POST",
        "path": _ROUTE,
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")],
    }


async def _call(app: Callable[..., Any], body: bytes) -> None:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(_scope(), receive, send)
    status = sent[0]["status"]
    if status != 200:
        raise RuntimeError(f"The server app answered {status}: {sent[1]['body'][:300]!r}")


async def _timed_requests(app: Callable[..., Any], bodies: Sequence[bytes], n: int) -> np.ndarray:
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        started = time.perf_counter_ns()
        await _call(app, bodies[i % len(bodies)])
        out[i] = time.perf_counter_ns() - started
    return out


async def _requests_for(
    app: Callable[..., Any], bodies: Sequence[bytes], seconds: float
) -> dict[str, float]:
    done = 0
    started = time.perf_counter()
    end = started + seconds
    while time.perf_counter() < end:
        await _call(app, bodies[done % len(bodies)])
        done += 1
    return {"requests": done, "seconds": time.perf_counter() - started, "pid": os.getpid()}


def probe_fd(fd: int) -> None:
    """:func:`probe_main` over the inherited socket ``fd`` (the process's entry point)."""
    import socket

    probe_main(Connection(socket.socket(fileno=fd).detach()))
