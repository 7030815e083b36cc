"""Feature groups as the online path needs them: resolved from the catalog, compiled, cached."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from shipyard.errors import InvalidInput
from shipyard.features._plan import Plan, compile_plan
from shipyard.features._store import get_entity, get_group

if TYPE_CHECKING:
    from shipyard.project import Project

__all__ = ["group_plan", "parse_refs", "to_micros"]

_CACHE_SECONDS = 5.0
_cache: dict[tuple[object, str, int | None], tuple[float, Plan]] = {}


def group_plan(
    project: Project, name: str, version: int | None = None, *, fresh: bool = False
) -> Plan:
    """The compiled plan of group ``name`` (its latest version when None).

    The latest version is looked up again after a few seconds, so a read costs no catalog
    query while a newly applied version is picked up soon.

    Raises:
        NotFound: No such group or version (with a did-you-mean).
    """
    # The catalog's identity without formatting its URL (a Path join per read otherwise).
    key = (project.settings.catalog_url or project.root, name, version)
    hit = _cache.get(key)
    now = time.monotonic()
    if hit is not None and not fresh and (version is not None or now - hit[0] < _CACHE_SECONDS):
        return hit[1]
    group = get_group(project, name, version)
    plan = compile_plan(group, get_entity(project, group.entity))
    _cache[key] = (now, plan)
    return plan


def parse_refs(features: Sequence[str] | str) -> list[tuple[str, list[str] | None]]:
    """``["usage:sum_1h,count_1h", "profile"]`` -> ``[("usage", [...]), ("profile", None)]``.

    Raises:
        InvalidInput: An empty list or a malformed reference.
    """
    refs = [features] if isinstance(features, str) else list(features)
    if not refs:
        raise InvalidInput(
            "The 'features' parameter must name at least one 'GROUP' or 'GROUP:feature,...'."
        )
    out: list[tuple[str, list[str] | None]] = []
    for ref in refs:
        if not isinstance(ref, str) or not ref.split(":", 1)[0].strip():
            raise InvalidInput(
                f"A feature reference must look like 'GROUP' or 'GROUP:feature,...'. "
                f"Got {ref!r} instead."
            )
        group, _, names = ref.partition(":")
        picked = [n.strip() for n in names.split(",") if n.strip()] if names else None
        out.append((group.strip(), picked or None))
    return out


def to_micros(at: datetime | str | None) -> int:
    """Microseconds since the epoch of ``at`` (now when None; a naive time is UTC)."""
    if at is None:
        return time.time_ns() // 1000
    if isinstance(at, str):
        try:
            at = datetime.fromisoformat(at)
        except ValueError as exc:
            raise InvalidInput(
                f"The 'at' parameter must be an ISO-8601 time such as 2024-05-01T12:00:00. "
                f"Got {at!r} instead."
            ) from exc
    if not isinstance(at, datetime):
        raise InvalidInput(f"The 'at' parameter must be a datetime. Got {at!r} instead.")
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    delta = at - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
