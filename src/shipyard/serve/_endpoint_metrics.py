"""An endpoint server's Prometheus metrics, per variant, in a registry of its own.

* ``shipyard_endpoint_requests_total{variant, arm, status}``: scoring requests answered;
* ``shipyard_endpoint_request_duration_seconds{variant}``: their latency;
* ``shipyard_endpoint_shadow_copies_total{outcome}``: shadow copies ``scored``, ``dropped``
  (queue full) or ``failed``, and ``shipyard_endpoint_shadow_waiting``;
* ``shipyard_endpoint_revision``: the revision being served.

The request path costs one dictionary lookup, a counter increment and a histogram
observation; the shadow counts and the revision are read when /metrics is scraped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from shipyard.serve._shadow import ShadowQueue

__all__ = ["EndpointMetrics"]

_LATENCY_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 5.0, 10.0,
)  # fmt: skip


class EndpointMetrics:
    """The metrics of one endpoint server."""

    def __init__(self, shadow: ShadowQueue, revision: Callable[[], int]) -> None:
        self.registry = CollectorRegistry()
        self._requests = Counter(
            "shipyard_endpoint_requests",
            "Scoring requests answered, by variant, arm (live, canary, baseline) and status.",
            ["variant", "arm", "status"],
            registry=self.registry,
        )
        self._latency = Histogram(
            "shipyard_endpoint_request_duration_seconds",
            "Time from a scoring request's arrival to its response, by variant.",
            ["variant"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_Collector(shadow, revision))
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, variant: str, arm: str, status: int, seconds: float) -> None:
        key = (variant, arm, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self._requests.labels(variant, arm, str(status)),
                self._latency.labels(variant),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _Collector(Collector):
    def __init__(self, shadow: ShadowQueue, revision: Callable[[], int]) -> None:
        self._shadow = shadow
        self._revision = revision

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        copies = CounterMetricFamily(
            "shipyard_endpoint_shadow_copies",
            "Copies of requests for the shadow variant, by outcome.",
            labels=["outcome"],
        )
        shadow = self._shadow
        for outcome, value in (
            ("scored", shadow.scored),
            ("dropped", shadow.dropped),
            ("failed", shadow.failed),
        ):
            copies.add_metric([outcome], value)
        yield copies
        yield GaugeMetricFamily(
            "shipyard_endpoint_shadow_waiting",
            "Copies waiting for the shadow variant.",
            value=shadow.waiting,
        )
        yield GaugeMetricFamily(
            "shipyard_endpoint_revision", "The endpoint revision served.", value=self._revision()
        )
