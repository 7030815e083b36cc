"""The inference server's Prometheus metrics, kept and exposed by ``prometheus-client``.

Each app has its own :class:`~prometheus_client.CollectorRegistry`, so two servers (or two
tests) in one process never share a count. The request path costs two dictionary lookups,
a counter increment and a histogram observation; the score histogram and the capture
counts are read only when ``/metrics`` is scraped.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Histogram, Info, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from shipyard.capture import CaptureWriter
    from shipyard.registry import LoadedModel

__all__ = ["ServeMetrics"]

# Seconds: a single-row request takes about 0.1-0.2 ms, a 10,000-row batch about a second.
_LATENCY_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 5.0, 10.0,
)  # fmt: skip
_PROBABILITY_BUCKETS = tuple(round(0.05 * i, 2) for i in range(1, 21))
_VALUE_BUCKETS = Histogram.DEFAULT_BUCKETS[:-1]  # regression: without a scale to go by


class ServeMetrics:
    """The metrics of one served model version, in a registry of their own.

    * ``shipyard_serve_requests_total{route, status}``: requests answered;
    * ``shipyard_serve_errors_total{route, status, error}``: those that failed, by kind;
    * ``shipyard_serve_request_duration_seconds{route}``: latency histogram;
    * ``shipyard_serve_score``: histogram of the scores returned (P(positive) for binary,
      the chosen class's probability for multiclass, the value for regression);
    * ``shipyard_capture_rows_written_total`` / ``_dropped_total`` and
      ``shipyard_capture_rows_buffered`` when capture is on;
    * ``shipyard_model_info{name, version, ref, family, problem_type}``.
    """

    def __init__(self, loaded: LoadedModel, capture: CaptureWriter | None = None) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self._requests = Counter(
            "shipyard_serve_requests",
            "Requests answered, by route and HTTP status.",
            ["route", "status"],
            registry=registry,
        )
        self._errors = Counter(
            "shipyard_serve_errors",
            "Requests that failed, by route, HTTP status and error kind.",
            ["route", "status", "error"],
            registry=registry,
        )
        self._latency = Histogram(
            "shipyard_serve_request_duration_seconds",
            "Time from the request's arrival to its response, by route.",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        problem = loaded.model.signature["problem_type"]
        bounds = _VALUE_BUCKETS if problem == "regression" else _PROBABILITY_BUCKETS
        self.scores = ScoreHistogram(bounds)
        registry.register(self.scores)
        if capture is not None:
            registry.register(_CaptureCollector(capture))
        Info("shipyard_model", "The model version this server serves.", registry=registry).info(
            {
                "name": loaded.version.name,
                "version": str(loaded.version.version),
                "ref": loaded.version.ref,
                "family": loaded.model.family.name,
                "problem_type": problem,
            }
        )
        self._children: dict[tuple[str, int], tuple[Any, Any]] = {}

    def observe(self, route: str, status: int, seconds: float, error: str | None = None) -> None:
        """Count one answered request and its latency (``error``: the kind, when it failed)."""
        children = self._children.get((route, status))
        if children is None:
            children = (self._requests.labels(route, str(status)), self._latency.labels(route))
            self._children[(route, status)] = children
        children[0].inc()
        children[1].observe(seconds)
        if error is not None:
            self._errors.labels(route, str(status), error).inc()

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)


class ScoreHistogram(Collector):
    """A histogram of scores that takes a whole batch at once (prometheus-client's
    ``Histogram.observe`` takes one value per call, a Python loop over the rows)."""

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self._bounds = bounds
        self._edges = np.asarray(bounds)
        self._counts = [0] * (len(bounds) + 1)  # the last one is +Inf
        self._sum = 0.0
        self._lock = threading.Lock()

    def observe_many(self, scores: np.ndarray) -> None:
        """Count every score of a batch (2-D: the largest of each row)."""
        if scores.ndim == 2:
            scores = scores.max(axis=1)
        if len(scores) == 1:
            value = float(scores[0])
            if value != value:  # NaN: a score no bucket holds
                return
            with self._lock:
                self._counts[bisect.bisect_left(self._bounds, value)] += 1
                self._sum += value
            return
        scores = scores[~np.isnan(scores)]
        counts = np.bincount(
            np.searchsorted(self._edges, scores, side="left"), minlength=len(self._counts)
        )
        total = float(scores.sum())
        with self._lock:
            self._counts = [a + int(b) for a, b in zip(self._counts, counts, strict=True)]
            self._sum += total

    def collect(self) -> Iterator[HistogramMetricFamily]:
        with self._lock:
            counts, total = list(self._counts), self._sum
        cumulative = np.cumsum(counts).tolist()
        buckets = [(_le(b), c) for b, c in zip(self._bounds, cumulative, strict=False)]
        buckets.append(("+Inf", cumulative[-1]))
        yield HistogramMetricFamily(
            "shipyard_serve_score",
            "Scores returned: P(positive) for binary models, the chosen class's probability "
            "for multiclass, the predicted value for regression.",
            buckets=buckets,
            sum_value=total,
        )


class _CaptureCollector(Collector):
    """The capture writer's counts, read at scrape time."""

    def __init__(self, capture: CaptureWriter) -> None:
        self._capture = capture

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        stats = self._capture.stats
        yield CounterMetricFamily(
            "shipyard_capture_rows_written",
            "Captured rows written to the artifact store.",
            value=stats.written,
        )
        yield CounterMetricFamily(
            "shipyard_capture_rows_dropped",
            "Captured rows dropped: the buffer was full, or a write failed.",
            value=stats.dropped,
        )
        yield GaugeMetricFamily(
            "shipyard_capture_rows_buffered",
            "Captured rows waiting in memory to be written.",
            value=stats.buffered,
        )


def _le(bound: float) -> str:
    return repr(float(bound))
