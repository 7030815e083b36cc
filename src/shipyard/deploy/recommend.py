"""Resource recommendation (SageMaker's Inference Recommender): measure a model version on
this machine, then size a deployment for a latency and a throughput target.

The measurement runs in fresh processes that load the model as ``shipyard serve`` does (see
:mod:`shipyard.serve._probe`): single-row latency through the model and through the
server's ASGI app, single-row throughput with 1, 2, 4 ... worker processes at once (how it
scales with cores), batch latency, rows/s per core and peak memory for a few batch sizes.
:func:`~shipyard.deploy._sizing.plan_deployment` turns that into replicas, workers, cores,
memory and a batch size, with its reasoning. The result is stored with the version: JSON in
the artifact store beside its reports, and the catalog's ``recommendation`` report of the
version, which ``shipyard models show`` reads.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shipyard.deploy._probe_setup import ProbeSetup
from shipyard.deploy._rows import measurement_rows
from shipyard.deploy._sizing import plan_deployment
from shipyard.deploy._units import parse_bytes, parse_latency, parse_rate
from shipyard.deploy.batch import MAX_BATCH_ROWS
from shipyard.entities import ModelVersion
from shipyard.errors import BackendUnavailable, InvalidInput, NotFound
from shipyard.project import Project
from shipyard.registry import load_model, resolve_model

__all__ = [
    "DEFAULT_BATCH_MEMORY",
    "DEFAULT_BATCH_SIZES",
    "RECOMMENDATION_KIND",
    "Recommendation",
    "load_recommendation",
    "recommend",
]

RECOMMENDATION_KIND = "recommendation"
DEFAULT_BATCH_SIZES = (1, 16, 256, 4096, 65536)
DEFAULT_BATCH_MEMORY = 2 * 2**30
"""The memory a batch-transform process may use unless told otherwise (2 GiB)."""

Progress = Callable[[str, int, int], None]
"""Told ``(what is measured now, steps done, steps in all)``."""

_MAX_SAMPLE = 65_536
_PROBE_TIMEOUT = 600.0
_PROBE_CODE = "from shipyard.serve._probe import probe_fd; probe_fd({fd})"


@dataclass(frozen=True)
class Recommendation:
    """A stored measurement and plan of a model version, and where its JSON is."""

    model_version: ModelVersion
    payload: dict[str, Any]
    uri: str | None

    @property
    def plan(self) -> dict[str, Any]:
        """Replicas, workers and cores per replica, memory, the batch size."""
        return dict(self.payload["plan"])

    @property
    def reasons(self) -> list[str]:
        """Why, one sentence per step, with the numbers."""
        return list(self.payload["reasons"])


def recommend(
    project: Project,
    ref: str,
    *,
    p99: str | float | None = None,
    rps: str | float | None = None,
    batch_rows: Sequence[int] | None = None,
    batch_memory: str | int | None = None,
    max_workers: int | None = None,
    requests: int = 2000,
    seconds: float = 2.0,
    batch_seconds: float = 0.5,
    progress: Progress | None = None,
) -> Recommendation:
    """Measure the model version ``ref`` on this machine, size a deployment for the targets,
    and store both with the version.

    Args:
        p99: Target single-row p99 latency: ``"10ms"``, ``"0.5s"`` or seconds.
        rps: Target requests per second: ``500``, ``"1.5k"``.
        batch_rows: Batch sizes to measure (default 1, 16, 256, 4096 and 65536).
        batch_memory: Most memory a batch-transform process may use: ``"2GB"`` or bytes
            (default 2 GiB).
        max_workers: Most worker processes to try at once (default: this machine's cores).
        requests: Single-row requests timed for the latency percentiles.
        seconds: How long each worker count is loaded with requests.
        batch_seconds: About how long each batch size is timed.
        progress: Told what is measured as it goes.

    Raises:
        NotFound: No such model, version or alias.
        InvalidInput: A target, batch size or count that is not valid.
        IntegrityError: The bundle does not match its manifest.
        BackendUnavailable: A measuring process failed or died (out of memory, say).
    """
    targets = _targets(p99, rps, batch_memory)
    sizes = check_batch_sizes(batch_rows)
    _check_counts(max_workers, requests, seconds, batch_seconds)
    loaded = load_model(project, ref)
    levels = _worker_levels(min(max_workers or _cores(), _cores()))
    steps = _Steps(progress, 3 + len(levels) + len(sizes))
    steps("Sampling rows to score")
    table, source = measurement_rows(project, loaded, min(max(max(sizes), 1000), _MAX_SAMPLE))
    with tempfile.TemporaryDirectory(prefix="shipyard-recommend-") as tmp:
        import pyarrow.parquet as pq

        rows_path = Path(tmp) / "rows.parquet"
        pq.write_table(table, rows_path)
        settings = project.settings
        setup = ProbeSetup(
            str(loaded.path),
            project.signing_key,
            loaded.version,
            str(rows_path),
            settings.serve_max_body_bytes,
            settings.serve_max_rows,
            settings.serve_metrics,
        )
        steps(f"Starting {max(levels)} measuring process(es)")
        with _Probes(setup, max(levels)) as probes:
            measured = _measure(probes, levels, sizes, requests, seconds, batch_seconds, steps)
    measured["rows"] = {"source": source, "count": table.num_rows, "columns": table.num_columns}
    plan, reasons = plan_deployment(
        measured, p99=targets["p99"], rps=targets["rps"], batch_memory=targets["batch_memory"]
    )
    payload = {
        "model": loaded.version.ref,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "targets": {
            "p99_ms": None if targets["p99"] is None else targets["p99"] * 1e3,
            "rps": targets["rps"],
            "batch_memory_bytes": targets["batch_memory"],
        },
        **measured,
        "plan": plan,
        "reasons": reasons,
    }
    return _store(project, loaded.version, payload)


def _measure(
    probes: _Probes,
    levels: list[int],
    sizes: Sequence[int],
    requests: int,
    seconds: float,
    batch_seconds: float,
    steps: _Steps,
) -> dict[str, Any]:
    """Latency, throughput by worker count, memory, then batches (which raise the peak)."""
    steps(f"Timing {requests:,} single-row requests")
    latency = probes.call(0, "latency", requests=requests)
    scaling = []
    for n in levels:
        steps(f"Single-row requests with {n} worker(s) for {seconds:g} s")
        results = probes.call_many(range(n), "serve", start_at=time.time() + 0.2, seconds=seconds)
        total = sum(r["requests"] / r["seconds"] for r in results)
        scaling.append({"workers": n, "rps": total, "per_worker_rps": total / n})
    after = probes.call(0, "memory")
    ready = probes.ready[0]
    memory = {
        "rss_imports": ready["rss_imports"],
        "rss_loaded": ready["rss"],
        "load_peak": ready["load_peak"],
        # The peak since loading when the OS can reset it, else since the start.
        "serving_peak": after["peak"] or after["rss"],
        "peak_resets": ready["peak_resets"],
    }
    batches = []
    for size in sorted(sizes):
        steps(f"Batches of {size:,} rows")
        batches.append(probes.call(0, "batch", rows=size, min_seconds=batch_seconds, max_reps=1000))
    return {"latency": latency, "scaling": scaling, "memory": memory, "batches": batches}


class _Steps:
    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def __call__(self, what: str) -> None:
        if self.progress is not None:
            self.progress(what, self.done, self.total)
        self.done += 1


class _Probes:
    """Measuring processes (fresh Pythons, each with a socket), stopped on exit."""

    def __init__(self, setup: ProbeSetup, count: int) -> None:
        self.setup, self.count = setup, count
        self.processes: list[tuple[Any, Path]] = []
        self.conns: list[Any] = []
        self.ready: list[dict[str, Any]] = []

    def __enter__(self) -> _Probes:
        self.logs = tempfile.TemporaryDirectory(prefix="shipyard-probe-")
        try:
            for i in range(self.count):
                self._start(Path(self.logs.name) / f"probe-{i}.log")
            self.ready = [self._receive(i) for i in range(self.count)]
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self, log: Path) -> None:
        import socket
        import subprocess
        import sys
        from multiprocessing.connection import Connection

        mine, theirs = socket.socketpair()
        with theirs, log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-c", _PROBE_CODE.format(fd=theirs.fileno())],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.processes.append((process, log))
        conn = Connection(mine.detach())
        self.conns.append(conn)
        conn.send(self.setup)

    def call(self, i: int, command: str, **kwargs: Any) -> Any:
        self.conns[i].send((command, kwargs))
        return self._receive(i)

    def call_many(self, which: Iterable[int], command: str, **kwargs: Any) -> list[Any]:
        chosen = list(which)
        for i in chosen:
            self.conns[i].send((command, kwargs))
        return [self._receive(i) for i in chosen]

    def _receive(self, i: int) -> Any:
        conn = self.conns[i]
        try:
            if not conn.poll(_PROBE_TIMEOUT):
                raise BackendUnavailable(
                    f"A measuring process gave no answer in {_PROBE_TIMEOUT:.0f} s. Try again "
                    "with fewer --batch-rows sizes, or on a less busy machine."
                )
            kind, value = conn.recv()
        except (EOFError, OSError):
            process, log = self.processes[i]
            code = process.wait(10)
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise BackendUnavailable(
                f"A measuring process died (exit code {code}; it said: "
                f"{' / '.join(tail) or 'nothing'}). A negative code is a signal: SIGKILL "
                "(-9) is usually the out-of-memory killer in the largest batch; try smaller "
                "--batch-rows sizes."
            ) from None
        if kind == "error":
            raise BackendUnavailable(f"A measuring process failed: {value}")
        return value

    def __exit__(self, *exc: object) -> None:
        import subprocess

        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.send(("stop", {}))
            conn.close()
        for process, _log in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.logs.cleanup()


def check_batch_sizes(batch_rows: Sequence[int] | None) -> tuple[int, ...]:
    """The batch sizes to measure (the defaults when None), checked and deduplicated.

    Raises:
        InvalidInput: An empty list, or a size that is not a whole number from 1 to
            ``MAX_BATCH_ROWS``.
    """
    if batch_rows is None:
        return DEFAULT_BATCH_SIZES
    sizes = list(batch_rows)
    bad = [
        s
        for s in sizes
        if not isinstance(s, int) or isinstance(s, bool) or not 1 <= s <= MAX_BATCH_ROWS
    ]
    if bad or not sizes:
        raise InvalidInput(
            "The 'batch_rows' parameter of recommend must list batch sizes, each a whole "
            f"number from 1 to {MAX_BATCH_ROWS:,}. Got {bad[0] if bad else sizes!r} instead."
        )
    return tuple(sorted(set(sizes)))


def _targets(
    p99: str | float | None, rps: str | float | None, batch_memory: str | int | None
) -> dict[str, Any]:
    return {
        "p99": None if p99 is None else parse_latency(p99, "p99"),
        "rps": None if rps is None else parse_rate(rps, "rps"),
        "batch_memory": (
            DEFAULT_BATCH_MEMORY
            if batch_memory is None
            else parse_bytes(batch_memory, "batch_memory")
        ),
    }


def _check_counts(
    max_workers: int | None, requests: int, seconds: float, batch_seconds: float
) -> None:
    for name, value, low in (
        ("max_workers", max_workers, 1),
        ("requests", requests, 10),
    ):
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise InvalidInput(
                f"The '{name}' parameter of recommend must be a whole number of at least "
                f"{low}. Got {value!r} instead."
            )
    for name, number in (("seconds", seconds), ("batch_seconds", batch_seconds)):
        if not isinstance(number, int | float) or isinstance(number, bool) or not number > 0:
            raise InvalidInput(
                f"The '{name}' parameter of recommend must be a positive number of seconds. "
                f"Got {number!r} instead."
            )


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _worker_levels(most: int) -> list[int]:
    """1, 2, 4 ... and ``most`` itself: how throughput grows without trying every count."""
    levels = {most}
    n = 1
    while n < most:
        levels.add(n)
        n *= 2
    return sorted(levels)


def _machine() -> dict[str, Any]:
    import psutil

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": _cores(),
        "cpu": cpu,
        "memory_bytes": psutil.virtual_memory().total,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
    }


def _store(project: Project, version: ModelVersion, payload: dict[str, Any]) -> Recommendation:
    """The JSON in the artifact store beside the version's reports (a new key each time:
    stored things are immutable), then the catalog's report that points at the latest."""
    key = (
        f"reports/models/{version.name}/{version.version}/"
        f"recommendation-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.json"
    )
    uri = project.artifacts.put_bytes(key, json.dumps(payload, indent=2).encode())
    payload = {**payload, "uri": uri}
    project.catalog.put_report(
        version.ref, RECOMMENDATION_KIND, payload, html_uri=None, actor=project.actor
    )
    return Recommendation(version, payload, uri)


def load_recommendation(project: Project, ref: str) -> Recommendation | None:
    """The latest stored recommendation of the version ``ref`` names; None if it has none.

    Raises:
        NotFound: No such model, version or alias.
    """
    version = resolve_model(project, ref)
    try:
        stored = project.catalog.get_report(version.ref, RECOMMENDATION_KIND)
    except NotFound:
        return None
    return Recommendation(version, dict(stored.payload), stored.payload.get("uri"))
