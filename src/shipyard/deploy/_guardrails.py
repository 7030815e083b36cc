"""Deployment guardrails: how a change to an endpoint's variants reaches all of its traffic.

A change made with a guardrail starts *baking*: the new configuration (the canary) takes a
share of the traffic and the configuration that was live before (the baseline) keeps the
rest. A canary guardrail keeps its share for the baking time, then takes everything; a linear
one adds a step every interval until it has everything. While it bakes, the canary's error
rate, 99th-percentile latency and score distribution (PSI against each canary version's
monitoring baseline) are judged against the endpoint's rollback limits; crossing one brings
the baseline back (an ``auto-rollback`` revision).

Everything here is a pure function of an endpoint revision, what the serving process
observed, and the time it is given: a server calls :func:`next_step` from its watcher with
its own clock, so tests drive a whole roll-out without sleeping.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from shipyard.deploy._endpoint_spec import DEFAULT_MIN_REQUESTS
from shipyard.entities import Endpoint
from shipyard.types import JSON

__all__ = [
    "SETTERS",
    "CanaryStats",
    "ScoreBins",
    "Step",
    "breach",
    "next_step",
    "rollout_state",
    "traffic",
]

SETTERS = frozenset({"create", "update", "rollback", "auto-rollback"})
"""Actions whose revision sets a configuration; a ``guardrail`` revision only moves a
roll-out along (same configuration, new state)."""


@dataclass(frozen=True)
class CanaryStats:
    """What a server saw of the canary since its roll-out began: requests answered, those
    that failed (5xx), the 99th-percentile latency in ms, and the largest PSI of a canary
    version's scores against its baseline (None where nothing could be measured)."""

    requests: int = 0
    errors: int = 0
    p99_ms: float | None = None
    psi: float | None = None

    def as_json(self) -> JSON:
        rate = self.errors / self.requests if self.requests else None
        return {
            "requests": self.requests,
            "errors": self.errors,
            "error_rate": rate,
            "p99_ms": self.p99_ms,
            "psi": self.psi,
        }


@dataclass(frozen=True)
class Step:
    """The next revision a roll-out needs: ``guardrail`` (a larger share, or done) or
    ``auto-rollback`` (the baseline's configuration back, ``restores`` its revision)."""

    action: str
    config: JSON
    state: JSON
    restores: int | None
    details: JSON


def rollout_state(
    previous: Endpoint | None, origin: int | None, config: JSON, now: datetime
) -> JSON:
    """The state of a new revision that sets ``config`` after ``previous``.

    Without a guardrail, or when the variants and weights do not change, it is live at once.
    Otherwise it bakes against a baseline: ``previous``'s configuration (``origin``, the
    revision that set it), or, if ``previous`` was baking itself, that roll-out's baseline
    (a configuration that never took all the traffic is no baseline).
    """
    guard = config.get("guardrail")
    if previous is None or guard is None:
        return {"phase": "live"}
    if previous.state.get("phase") == "baking":
        baseline = previous.state["baseline"]
    else:
        baseline = {"revision": origin, "config": previous.config}
    if _variants(baseline["config"]) == _variants(config):
        return {"phase": "live"}
    share = guard["share"] if guard["kind"] == "canary" else guard["step"]
    at = now.isoformat()
    return {
        "phase": "baking",
        "share": share,
        "rollout": previous.revision + 1,
        "started_at": at,
        "step_at": at,
        "baseline": baseline,
    }


def traffic(config: JSON, state: JSON) -> list[tuple[str, JSON, float]]:
    """Who gets which share of the requests, as ``(arm, variant, percent)``: arm ``live``
    when nothing bakes, else ``canary`` lanes (first, so that a sticky caller who moved to
    the canary stays there as its share grows) then ``baseline`` ones. Zero shares are
    left out; the percentages sum to 100."""
    if state.get("phase") != "baking":
        return [("live", v, float(v["weight"])) for v in config["variants"]]
    share = float(state["share"])
    lanes = [("canary", v, share * v["weight"] / 100) for v in config["variants"]]
    baseline = state["baseline"]["config"]["variants"]
    lanes += [("baseline", v, (100 - share) * v["weight"] / 100) for v in baseline]
    return [lane for lane in lanes if lane[2] > 0]


def next_step(endpoint: Endpoint, stats: CanaryStats, now: datetime) -> Step | None:
    """What a baking roll-out does next at ``now`` given the canary's ``stats``: roll back
    (a limit crossed), grow (linear, an interval passed), finish (the baking time or the
    last step passed), or nothing yet (None). None too when nothing bakes."""
    state = endpoint.state
    if state.get("phase") != "baking":
        return None
    config = endpoint.config
    observed = stats.as_json()
    crossed = breach(config.get("rollback_on") or {}, stats)
    if crossed is not None:
        baseline = state["baseline"]
        rolled = {"reason": crossed, "from_revision": endpoint.revision, "at": now.isoformat()}
        return Step(
            "auto-rollback",
            baseline["config"],
            {"phase": "live", "rolled_back": {**rolled, "observed": observed}},
            baseline["revision"],
            {"reason": crossed, "observed": observed},
        )
    guard = config["guardrail"]
    waited = (now - datetime.fromisoformat(state["step_at"])).total_seconds()
    if guard["kind"] == "canary":
        if waited < guard["bake_seconds"]:
            return None
        share = 100.0
    else:
        if waited < guard["interval_seconds"]:
            return None
        share = min(100.0, float(state["share"]) + guard["step"])
    if share >= 100:
        completed = {"rollout": state["rollout"], "at": now.isoformat(), "observed": observed}
        done: JSON = {"phase": "live", "completed": completed}
        return Step("guardrail", config, done, None, {"share": 100, "observed": observed})
    grown = {**state, "share": share, "step_at": now.isoformat()}
    return Step("guardrail", config, grown, None, {"share": share, "observed": observed})


def breach(limits: JSON, stats: CanaryStats) -> str | None:
    """Which rollback limit ``stats`` cross, said in words (None: none, or too few requests
    to judge yet)."""
    needed = int(limits.get("min_requests", DEFAULT_MIN_REQUESTS))
    if stats.requests < needed or stats.requests == 0:
        return None
    n = stats.requests
    rate = stats.errors / n
    limit = limits.get("error_rate")
    if limit is not None and rate > limit:
        return (
            f"the canary's error rate {rate:.4g} passed the limit {limit:g} "
            f"({stats.errors} of {n} requests failed)"
        )
    limit = limits.get("p99_ms")
    if limit is not None and stats.p99_ms is not None and stats.p99_ms > limit:
        return (
            f"the canary's p99 latency {stats.p99_ms:.1f} ms passed the limit {limit:g} ms "
            f"(over {n} requests)"
        )
    limit = limits.get("psi")
    if limit is not None and stats.psi is not None and stats.psi > limit:
        return (
            f"the canary's score PSI {stats.psi:.3f} against its monitoring baseline passed "
            f"the limit {limit:g} (over {n} requests)"
        )
    return None


class ScoreBins:
    """The scores one variant returned, counted in the bins of its baseline's score
    histogram, for the PSI between the two. Scores past the outer edges count in the end
    bins; NaN is not counted. Fed from the serving thread only.

    Args:
        edges: The baseline histogram's bin edges (k + 1 of them).
        expected: Its counts (k of them).
    """

    def __init__(self, edges: Sequence[float], expected: Sequence[float]) -> None:
        self._inner = [float(e) for e in edges[1:-1]]
        self._inner_array = np.asarray(self._inner)
        self.expected = np.asarray(expected, dtype=np.float64)
        self.counts = np.zeros(len(self.expected), dtype=np.int64)

    def add(self, scores: np.ndarray) -> None:
        """Count a request's scores (2-D: the largest class probability of each row)."""
        if scores.ndim == 2:
            scores = scores.max(axis=1)
        if len(scores) == 1:
            value = float(scores[0])
            if value == value:
                self.counts[bisect.bisect_right(self._inner, value)] += 1
            return
        finite = scores[~np.isnan(scores)]
        where = np.searchsorted(self._inner_array, finite, side="right")
        self.counts += np.bincount(where, minlength=len(self.counts))

    def psi(self) -> float | None:
        """The PSI of the counted scores against the baseline (None before any score)."""
        from shipyard.analyze.stats import psi

        if not self.counts.any() or not self.expected.any():
            return None
        return psi(self.expected, self.counts)


def _variants(config: JSON) -> list[tuple[Any, Any]]:
    return sorted((v["model"], v["weight"]) for v in config["variants"])
