"""From measurements to a deployment: replicas, workers, cores, memory, batch size.

Pure arithmetic over what :mod:`shipyard.deploy.recommend` measured, so that every number
of a plan can be checked by hand: each step appends the sentence that explains it.
"""

from __future__ import annotations

import math
from typing import Any

from shipyard.deploy._units import format_bytes

__all__ = ["BUSY_CAP", "HEADROOM", "plan_deployment"]

BUSY_CAP = 0.7
"""The busiest a serving worker is planned to be: bursts need room even when the average
load leaves p99 far below its target."""

HEADROOM = 1.25
"""Memory limit over the measured peak: allocator growth, a larger request, Python's heap."""

_P99_FACTOR = math.log(100)
"""In an M/M/1 queue, response time is exponential with mean S / (1 - busy), so its p99 is
ln(100) ≈ 4.6 times that mean."""

_SCALING_TOLERANCE = 0.05
_BATCH_TOLERANCE = 0.05
_MEMORY_STEP = 64 * 2**20


def plan_deployment(
    measured: dict[str, Any],
    *,
    p99: float | None,
    rps: float | None,
    batch_memory: int,
) -> tuple[dict[str, Any], list[str]]:
    """The deployment that meets the targets, and the reasoning, sentence by sentence.

    Args:
        measured: ``latency`` (``app``: ``mean_ms``, ``p99_ms``), ``scaling``
            (``workers``, ``rps``), ``memory`` (``rss_loaded``, ``load_peak``,
            ``serving_peak``) and ``batches`` (``rows``, ``rows_per_second``, ``peak_rss``),
            as :func:`~shipyard.deploy.recommend` measures them.
        p99: Target single-row p99, in seconds (None: no latency target).
        rps: Target requests per second (None: one replica, and what it can take).
        batch_memory: Most memory, in bytes, a batch-transform process may use.
    """
    reasons: list[str] = []
    plan: dict[str, Any] = {}
    app = measured["latency"]["app"]
    plan["meets_p99"] = _latency(app, p99, reasons)
    workers, per_worker = _workers(measured["scaling"], reasons)
    busy = _busy(app["mean_ms"] / 1e3, p99, reasons)
    capacity = workers * per_worker * busy
    if rps is None:
        replicas = 1
        reasons.append(
            f"No --rps target: one replica of {workers} worker(s) takes about {capacity:,.0f} "
            f"req/s ({workers} × {per_worker:,.0f} × {busy:.0%})."
        )
    else:
        replicas = max(1, math.ceil(rps / capacity))
        reasons.append(
            f"{rps:,.0f} req/s ÷ ({workers} worker(s) × {per_worker:,.0f} req/s × {busy:.0%} "
            f"busy = {capacity:,.0f} req/s per replica) = {rps / capacity:.2f} → {replicas} "
            f"replica(s); run 2 or more for availability."
        )
    memory = measured["memory"]
    peak = max(memory["serving_peak"], memory.get("load_peak") or 0)
    per_worker_memory = _round_up(peak * HEADROOM)
    reasons.append(
        f"A serving worker holds {format_bytes(memory['rss_loaded'])} once loaded and peaked "
        f"at {format_bytes(peak)} (loading or serving); × {HEADROOM} headroom → "
        f"{format_bytes(per_worker_memory)} per worker, "
        f"{format_bytes(per_worker_memory * workers)} per replica."
    )
    plan.update(
        replicas=replicas,
        workers_per_replica=workers,
        cores_per_replica=workers,
        cores=replicas * workers,
        memory_per_worker_bytes=per_worker_memory,
        memory_per_replica_bytes=per_worker_memory * workers,
        worker_rps=per_worker,
        busy=busy,
        replica_rps=capacity,
    )
    plan.update(_batch(measured["batches"], batch_memory, reasons))
    return plan, reasons


def _latency(app: dict[str, float], p99: float | None, reasons: list[str]) -> bool | None:
    measured = app["p99_ms"]
    if p99 is None:
        reasons.append(f"Single-row p99 through the server app: {measured:.3g} ms (no target).")
        return None
    target = p99 * 1e3
    if measured <= target:
        reasons.append(
            f"Single-row p99 through the server app is {measured:.3g} ms, within the "
            f"{target:.3g} ms target."
        )
        return True
    reasons.append(
        f"Single-row p99 through the server app is {measured:.3g} ms, over the {target:.3g} ms "
        "target even with no load: more replicas cannot fix that. Use faster cores, or a "
        "smaller model (fewer or shallower trees)."
    )
    return False


def _workers(scaling: list[dict[str, Any]], reasons: list[str]) -> tuple[int, float]:
    """Workers per replica: the fewest that reach (within 5%) the most total throughput
    measured; and the throughput of each of them then."""
    best = max(s["rps"] for s in scaling)
    chosen = min(
        (s for s in scaling if s["rps"] >= (1 - _SCALING_TOLERANCE) * best),
        key=lambda s: s["workers"],
    )
    one = next((s for s in scaling if s["workers"] == 1), scaling[0])
    steps = ", ".join(f"{s['workers']} → {s['rps']:,.0f}" for s in scaling)
    n = int(chosen["workers"])
    why = (
        "all the cores measured here; a replica with more may take more"
        if n == max(s["workers"] for s in scaling)
        else f"more added less than {_SCALING_TOLERANCE:.0%}"
    )
    scaled = f" Scaling from 1 worker: {chosen['rps'] / (one['rps'] * n):.0%}." if n > 1 else ""
    reasons.append(
        f"Single-row requests per second by worker processes on this machine: {steps}. "
        f"{n} worker(s) per replica, one core each ({why}).{scaled}"
    )
    return int(chosen["workers"]), float(chosen["rps"]) / int(chosen["workers"])


def _busy(mean: float, p99: float | None, reasons: list[str]) -> float:
    """How busy a worker may be planned: BUSY_CAP, or less when queueing would push p99
    past its target (M/M/1: p99 ≈ 4.6 × mean / (1 − busy))."""
    if p99 is None:
        reasons.append(f"Each worker planned at most {BUSY_CAP:.0%} busy, for bursts.")
        return BUSY_CAP
    allowed = 1 - _P99_FACTOR * mean / p99
    busy = min(BUSY_CAP, max(allowed, 0.05))
    reasons.append(
        f"Queueing (M/M/1): p99 ≈ 4.6 × {mean * 1e3:.3g} ms / (1 − busy) stays within "
        f"{p99 * 1e3:.3g} ms up to {max(allowed, 0):.0%} busy; planned at {busy:.0%}"
        + (" (the cap, for bursts)." if busy == BUSY_CAP else ".")
    )
    return busy


def _batch(batches: list[dict[str, Any]], budget: int, reasons: list[str]) -> dict[str, Any]:
    """The batch size for batch transform: of the sizes whose peak fits the budget, the
    largest within 5% of the best rows/s."""
    fits = [b for b in batches if b["peak_rss"] is None or b["peak_rss"] <= budget]
    if not fits:
        smallest = min(batches, key=lambda b: b["rows"])
        reasons.append(
            f"No batch size measured fits {format_bytes(budget)}: even {smallest['rows']:,} "
            f"rows peaked at {format_bytes(smallest['peak_rss'])}. Give batch transform more "
            "memory (--batch-memory)."
        )
        return {"batch_rows": None, "batch_memory_budget_bytes": budget}
    best = max(b["rows_per_second"] for b in fits)
    chosen = max(
        (b for b in fits if b["rows_per_second"] >= (1 - _BATCH_TOLERANCE) * best),
        key=lambda b: b["rows"],
    )
    left_out = [b["rows"] for b in batches if b not in fits]
    reasons.append(
        f"Batch transform: {chosen['rows']:,} rows per batch scores "
        f"{chosen['rows_per_second']:,.0f} rows/s per core (best measured {best:,.0f}) and "
        f"peaks at {format_bytes(chosen['peak_rss'] or 0)}, within the "
        f"{format_bytes(budget)} budget"
        + (f"; {', '.join(f'{r:,}' for r in left_out)} rows would not fit." if left_out else ".")
    )
    return {
        "batch_rows": chosen["rows"],
        "batch_rows_per_second_per_core": chosen["rows_per_second"],
        "batch_peak_bytes": chosen["peak_rss"],
        "batch_memory_budget_bytes": budget,
    }


def _round_up(size: float) -> int:
    return int(math.ceil(size / _MEMORY_STEP) * _MEMORY_STEP)
