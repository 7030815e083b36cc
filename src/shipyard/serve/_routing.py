"""One routing of an endpoint: which scorer answers which share of the requests.

A :class:`Routing` is immutable once built; the server swaps the whole object when the
endpoint changes, so a request reads one consistent routing from start to end.
"""

from __future__ import annotations

import bisect
import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from shipyard.deploy import Lane, TrafficPlan
from shipyard.serve._variants import RolloutStats, VariantScorer

__all__ = ["Routing", "sticky_value"]

_ROW_LISTS = ("rows", "instances", "entities")


@dataclass(frozen=True)
class Routing:
    """The lanes of a plan with their scorers, the shadow's scorer, and the canary's stats.

    ``cumulative`` holds the lanes' cumulative shares as fractions of 1, so a uniform draw
    (random, or a hash of the sticky key's value) picks a lane by bisection.
    """

    plan: TrafficPlan
    lanes: tuple[tuple[Lane, VariantScorer], ...]
    shadow: VariantScorer | None
    stats: RolloutStats | None
    cumulative: tuple[float, ...] = field(init=False)
    primary: VariantScorer = field(init=False)

    def __post_init__(self) -> None:
        total = sum(lane.share for lane, _ in self.lanes) or 1.0
        running, cumulative = 0.0, []
        for lane, _ in self.lanes:
            running += lane.share / total
            cumulative.append(running)
        object.__setattr__(self, "cumulative", tuple(cumulative))
        largest = max(self.lanes, key=lambda pair: pair[0].share)
        object.__setattr__(self, "primary", largest[1])

    @property
    def needs_body(self) -> bool:
        """Whether a request's body is read before it is routed (sticky key or shadow)."""
        return self.plan.sticky_key is not None or self.shadow is not None

    @property
    def scorers(self) -> list[VariantScorer]:
        found = {id(s): s for _, s in self.lanes}
        if self.shadow is not None:
            found[id(self.shadow)] = self.shadow
        return list(found.values())

    def pick(self, body: bytes | None) -> tuple[Lane, VariantScorer]:
        """The lane that answers a request: by the hash of the sticky key's value when the
        body has one, else at random, with the lanes' shares as probabilities."""
        lanes = self.lanes
        if len(lanes) == 1:
            return lanes[0]
        draw: float | None = None
        key = self.plan.sticky_key
        if key is not None and body is not None:
            value = sticky_value(body, key)
            if value is not None:
                digest = hashlib.blake2b(value, digest_size=8).digest()
                draw = int.from_bytes(digest, "big") / 2.0**64
        if draw is None:
            draw = random.random()
        index = bisect.bisect_right(self.cumulative, draw)
        return lanes[min(index, len(lanes) - 1)]

    def describe(self) -> dict[str, Any]:
        """The routing as JSON: revision, lanes with their shares, the shadow."""
        plan = self.plan
        shadow = plan.shadow
        return {
            "endpoint": plan.name,
            "env": plan.env,
            "revision": plan.revision,
            "rollout": plan.rollout,
            "lanes": [_lane(lane) for lane, _ in self.lanes],
            "shadow": None if shadow is None else _lane(shadow),
            "capture": plan.capture,
            "sticky_key": plan.sticky_key,
        }


def sticky_value(body: bytes, key: str) -> bytes | None:
    """The JSON of the sticky key's value in a request body (the first row's, or the
    entity's), or None when the body is not JSON or lacks the key."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    value: Any = None
    if isinstance(doc, dict):
        if key in doc:
            value = doc[key]
        else:
            for name in _ROW_LISTS:
                value = _first(doc.get(name), key)
                if value is not None:
                    break
    elif isinstance(doc, list):
        value = _first(doc, key)
    return None if value is None else orjson.dumps(value)


def _first(items: Any, key: str) -> Any:
    if isinstance(items, Sequence) and items and isinstance(items[0], dict):
        return items[0].get(key)
    return None


def _lane(lane: Lane) -> dict[str, Any]:
    return {
        "arm": lane.arm,
        "variant": lane.variant,
        "model": lane.model,
        "version": lane.version,
        "share": lane.share,
    }
