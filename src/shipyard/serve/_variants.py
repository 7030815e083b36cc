"""The variants an endpoint server holds: one loaded, warmed :class:`ShipyardServeApp` per
model version it serves, how many requests each has in flight, and what the canary of a
roll-out did (for its guardrail).

A variant's scorer is made once and reused by every routing that needs the same version
with the same capture; one no routing needs any more is retired, and closed (its capture
flushed) once its last request in flight has finished.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from shipyard.deploy import CanaryStats, Lane, ScoreBins, score_baseline
from shipyard.errors import InvalidInput
from shipyard.registry import load_model
from shipyard.serve._app import ShipyardServeApp, create_app
from shipyard.serve._features import entity_request
from shipyard.serve._parse import (
    Rows,
    load_json,
    rows_from_csv,
    rows_from_invocation,
    rows_from_predict,
)
from shipyard.serve.server import _capture_writer

if TYPE_CHECKING:
    from shipyard.project import Project

__all__ = ["RolloutStats", "VariantScorer", "load_scorer"]

log = logging.getLogger("shipyard.serve")

_CSV = b"text/csv"
# A synthetic value of each signature type, for the warm-up row.
_WARM_VALUES: dict[str, Any] = {
    "number": 0.0,
    "boolean": False,
    "string": "",
    "datetime": "2000-01-01T00:00:00",
}
_LATENCIES_KEPT = 20_000


class VariantScorer:
    """One model version served as one variant: its ASGI app (which scores and captures)
    and its requests in flight (live ones, and shadow copies waiting in the queue).

    Each counter is written by one thread only (the event loop, or the shadow worker), so
    none needs a lock; :attr:`in_flight` reads their difference.
    """

    def __init__(self, key: tuple[str, str, float], app: ShipyardServeApp) -> None:
        self.key = key
        self.variant, self.version, self.capture = key
        self.app = app
        self.header = self.variant.encode()
        self.prefix = b'{"variant":' + orjson.dumps(self.variant)
        self.started = 0
        self.finished = 0
        self.queued = 0
        self.dequeued = 0
        model = app.loaded.model
        self._names = tuple(c["name"] for c in model.signature["inputs"])
        self._specs = tuple((c["name"], c["type"]) for c in model.signature["inputs"])

    @property
    def in_flight(self) -> int:
        return self.started - self.finished + self.queued - self.dequeued

    def close(self) -> None:
        """Flush the capture and the feature log (idempotent)."""
        self.app.close()

    def rows(self, path: str, body: bytes, media: bytes) -> Rows:
        """The rows a request body carries, as the variant's own route would read them;
        entities are looked up without applying their events (the live request did).

        Raises:
            ShipyardError: The body is not one the route accepts.
        """
        if media == _CSV:
            return rows_from_csv(body, self._specs)
        doc = load_json(body)
        scorer = self.app.scorer
        if scorer is not None:
            entities = entity_request(doc, scorer.keys)
            if entities is not None:
                at = doc.get("at") if isinstance(doc, dict) else None
                return list(scorer.lookup(entities, apply=False, at=at).rows)
        if path == "/v1/predict":
            return rows_from_predict(doc)
        return rows_from_invocation(doc, self._names)

    def score_copies(self, items: Sequence[tuple[str, str, bytes, bytes, float]]) -> int:
        """Score shadow copies ``(request_id, path, body, media, queued_at)`` in one batch and
        capture every one; returns how many could not be read (they are skipped)."""
        ids, rows, counts, waited = [], [], [], []
        bad = 0
        now = time.perf_counter()
        for request_id, path, body, media, queued_at in items:
            try:
                parsed = self.rows(path, body, media)
            except Exception:  # a body the live variant answered may still not fit this one
                bad += 1
                continue
            ids.append(request_id)
            rows.extend(parsed)
            counts.append(len(parsed))
            waited.append((now - queued_at) * 1e3)
        capture = self.app.capture
        if not rows or capture is None:
            return bad
        result = self.app.loaded.model.predict_records(rows, threads=1)
        labels = result.labels()
        start = 0
        for request_id, n, ms in zip(ids, counts, waited, strict=True):
            end = start + n
            capture.add(
                request_id,
                rows[start:end],
                result.scores[start:end],
                None if labels is None else labels[start:end],
                ms,
                count=n,
            )
            start = end
        return bad


def load_scorer(home: Project, lane: Lane, capture: float) -> VariantScorer:
    """Load, verify and warm ``lane``'s model version as a scorer capturing ``capture`` %
    of its requests (tagged with the variant's name).

    Raises:
        NotFound: The version is gone.
        IntegrityError: Its bundle does not match its manifest.
        InvalidInput: The warm-up row could not be scored.
    """
    version = lane.version
    if version is None:  # plans hold resolved versions only
        raise InvalidInput(f"The variant {lane.variant} resolves to no version.")
    loaded = load_model(home, version)
    settings = home.settings
    writer = _capture_writer(home, loaded, capture, variant=lane.variant) if capture > 0 else None
    app = create_app(
        loaded,
        max_body_bytes=settings.serve_max_body_bytes,
        max_rows=settings.serve_max_rows,
        max_explain_rows=settings.serve_max_explain_rows,
        capture=writer,
        metrics=False,
        project=home,
    )
    scorer = VariantScorer((lane.variant, version, capture), app)
    try:
        warm(loaded.model.signature, loaded.model.predict_records)
    except Exception as exc:
        scorer.close()
        raise InvalidInput(
            f"Variant {lane.variant} ({version}) failed to score a warm-up row: {exc}. It "
            "takes no traffic.",
            details={"variant": lane.variant, "version": version},
        ) from exc
    return scorer


def warm(signature: Mapping[str, Any], predict: Any) -> None:
    """Score one synthetic row made from ``signature`` (first calls allocate and cache)."""
    row = {c["name"]: _WARM_VALUES.get(c["type"]) for c in signature["inputs"]}
    for _ in range(3):
        predict([row], threads=1)


@dataclass
class _Canary:
    bins: ScoreBins | None


class RolloutStats:
    """What the canary of one roll-out did in this process: requests, failures, latencies
    and, for each canary version with a monitoring baseline, its scores binned for the PSI.

    Fed from the event loop; read by the watcher (a lock guards the latency list only).
    """

    def __init__(self, rollout: int, bins: Mapping[str, ScoreBins | None]) -> None:
        self.rollout = rollout
        self.requests = 0
        self.errors = 0
        self._bins = dict(bins)
        self._latencies: deque[float] = deque(maxlen=_LATENCIES_KEPT)
        self._lock = threading.Lock()

    @classmethod
    def for_lanes(
        cls, project: Project, env: str, rollout: int, lanes: Sequence[Lane]
    ) -> RolloutStats:
        """Stats for ``rollout``, with the baseline score bins of each canary version of
        ``env`` (in ``project``) that has a monitoring baseline."""
        bins: dict[str, ScoreBins | None] = {}
        for lane in lanes:
            if lane.arm == "canary" and lane.version and lane.version not in bins:
                found = score_baseline(project, env, lane.version)
                bins[lane.version] = None if found is None else ScoreBins(*found)
        return cls(rollout, bins)

    def wants_scores(self, version: str) -> bool:
        return self._bins.get(version) is not None

    def observe(self, version: str, status: int, seconds: float, body: bytes | None) -> None:
        """Count one canary request; ``body`` (a 200 answer) feeds the version's PSI."""
        self.requests += 1
        if status >= 500:
            self.errors += 1
        with self._lock:
            self._latencies.append(seconds * 1e3)
        bins = self._bins.get(version)
        if bins is not None and body is not None and status == 200:
            scores = _scores_of(body)
            if scores is not None:
                bins.add(scores)

    def snapshot(self) -> CanaryStats:
        with self._lock:
            latencies = np.fromiter(self._latencies, dtype=np.float64)
        p99 = float(np.percentile(latencies, 99)) if latencies.size else None
        psis = [b.psi() for b in self._bins.values() if b is not None]
        found = [p for p in psis if p is not None]
        return CanaryStats(self.requests, self.errors, p99, max(found) if found else None)


def _scores_of(body: bytes) -> np.ndarray | None:
    """The scores of a prediction answer (the largest class probability for multiclass)."""
    try:
        predictions = orjson.loads(body)["predictions"]
        values = [
            max(p["score"].values()) if isinstance(p["score"], dict) else p["score"]
            for p in predictions
        ]
        return np.asarray(values, dtype=np.float64)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
