"""One page of a catalog listing at a time: keyset pagination behind an opaque cursor.

Every listing (runs, dataset versions, model versions, alerts, audit events, ...) is sorted
by a key that ends in the row's unique id, so the order is total and stable: a page starts
strictly after the last row of the one before, whatever was written in between, and the
database seeks to it through an index rather than skipping rows (``OFFSET``), so page 2,000
costs what page 1 does.

:data:`LISTINGS` says, as data, what each listing may be sorted and filtered by; the faces
read it to document and check their parameters. A cursor is the last row's sort key plus the
query it belongs to (listing, sort, direction, filters), in URL-safe base64: a cursor used
with other filters or another sort is refused rather than silently skipping rows.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from shipyard.errors import InvalidInput, did_you_mean

__all__ = [
    "DEFAULT_LIMIT",
    "LISTINGS",
    "MAX_LIMIT",
    "METRIC_PREFIX",
    "ExperimentSummary",
    "Listing",
    "Page",
    "PageQuery",
    "ReportSummary",
    "decode_cursor",
    "encode_cursor",
]

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
METRIC_PREFIX = "metrics."
"""Runs sort by a final metric as ``metrics.<key>`` (``metrics.test.roc_auc``), MLflow's way."""
_METRIC_KEY = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")
_MAX_CURSOR = 4096


@dataclass(frozen=True)
class Listing:
    """What one listing can be sorted and filtered by.

    ``sorts`` are sort keys (the first is the default), ``filters`` the filter names it takes,
    ``metric_sorts`` whether ``metrics.<key>`` sorts are allowed too.
    """

    sorts: tuple[str, ...]
    descending: bool
    filters: tuple[str, ...] = ()
    metric_sorts: bool = False

    @property
    def default_sort(self) -> str:
        return self.sorts[0]


LISTINGS: Mapping[str, Listing] = {
    # the latest version of each dataset
    "datasets": Listing(("name", "created_at", "num_rows"), False, ("prefix",)),
    "dataset_versions": Listing(("version", "created_at", "num_rows"), True, ("name",)),
    "experiments": Listing(("name",), False, ("prefix",)),
    "runs": Listing(
        ("started_at", "name", "experiment", "status"),
        True,
        ("experiment", "status", "kind", "parent", "created_by"),
        metric_sorts=True,
    ),
    # the latest ready version of each model, with its aliases
    "models": Listing(("name", "created_at"), False, ("prefix",)),
    "model_versions": Listing(
        ("version", "created_at"), True, ("name", "include_pending", "alias")
    ),
    "monitors": Listing(("name", "created_at"), False, ("model",)),
    "monitor_runs": Listing(("window_start", "created_at"), True, ("monitor", "status")),
    "alerts": Listing(("created_at", "severity"), True, ("monitor", "status", "severity", "kind")),
    "events": Listing(
        ("id",),
        True,
        ("actor", "action", "object_type", "object_id", "face", "since", "until"),
    ),
    # the latest version of each feature-store group or entity
    "feature_groups": Listing(("name", "created_at"), False, ("prefix",)),
    "feature_entities": Listing(("name", "created_at"), False, ("prefix",)),
    "feature_versions": Listing(("version", "created_at"), True, ("kind", "name")),
    "pipeline_runs": Listing(("started_at",), True, ("pipeline", "status")),
    # the latest version of each pipeline
    "pipelines": Listing(("name", "created_at"), False, ("prefix",)),
    # endpoints at their current revision, of one environment with the ``env`` filter
    "endpoints": Listing(("name", "created_at"), False, ("env", "prefix")),
}
"""Listing name -> its sorts and filters."""


@dataclass(frozen=True)
class PageQuery:
    """Which page of a listing to read.

    Args:
        sort: A sort key of the listing (its default when None), or ``metrics.<key>``
            where the listing allows it.
        descending: The direction (the listing's default when None).
        limit: Most items on the page, 1 to :data:`MAX_LIMIT`.
        cursor: The ``next_cursor`` of the page before; None for the first page.
        filters: Filter name -> value; None values are dropped.
    """

    sort: str | None = None
    descending: bool | None = None
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    filters: Mapping[str, Any] = field(default_factory=dict)

    def resolved(self, listing: str) -> ResolvedQuery:
        """This query checked against ``listing``, defaults filled in.

        Raises:
            InvalidInput: An unknown sort or filter, a limit out of range, or a cursor that
                is malformed or belongs to another query.
        """
        spec = LISTINGS[listing]
        sort = self.sort or spec.default_sort
        if sort not in spec.sorts and not _metric_sort(spec, sort):
            allowed = [*spec.sorts, *([f"{METRIC_PREFIX}<key>"] if spec.metric_sorts else [])]
            raise InvalidInput(
                f"The 'sort' parameter of a {listing} listing must be one of "
                f"{', '.join(allowed)}. Got {sort!r} instead.{did_you_mean(sort, spec.sorts)}",
                details={"sort": sort, "allowed": allowed},
            )
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidInput(
                f"The 'limit' parameter of a listing must be from 1 to {MAX_LIMIT}. "
                f"Got {self.limit} instead.",
                details={"limit": self.limit},
            )
        filters = {k: v for k, v in self.filters.items() if v is not None}
        unknown = sorted(set(filters) - set(spec.filters))
        if unknown:
            raise InvalidInput(
                f"A {listing} listing cannot be filtered by {', '.join(unknown)}; its filters "
                f"are {', '.join(spec.filters) or 'none'}.",
                details={"filters": unknown},
            )
        descending = spec.descending if self.descending is None else self.descending
        after = None
        if self.cursor:
            after = decode_cursor(self.cursor, _fingerprint(listing, sort, descending, filters))
        return ResolvedQuery(listing, sort, descending, self.limit, filters, after)


@dataclass(frozen=True)
class ResolvedQuery:
    """A :class:`PageQuery` checked against its listing: what an adapter executes."""

    listing: str
    sort: str
    descending: bool
    limit: int
    filters: dict[str, Any]
    after: tuple[Any, ...] | None

    @property
    def metric(self) -> str | None:
        """The metric key of a ``metrics.<key>`` sort, else None."""
        return self.sort[len(METRIC_PREFIX) :] if self.sort.startswith(METRIC_PREFIX) else None

    def page(self, items: list[T], last_key: Sequence[Any] | None) -> Page[T]:
        """The page of ``items``; ``last_key`` is the sort key of its last row when more
        rows follow, else None."""
        cursor = None
        if last_key is not None:
            fingerprint = _fingerprint(self.listing, self.sort, self.descending, self.filters)
            cursor = encode_cursor(last_key, fingerprint)
        return Page(items, cursor)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page: its items, and the cursor of the next page (None: this is the last)."""

    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True)
class ExperimentSummary:
    """An experiment (runs share one name, the model's): how many runs, the latest start."""

    name: str
    runs: int
    last_started_at: datetime


@dataclass(frozen=True)
class ReportSummary:
    """A stored report of a subject, without its payload."""

    subject: str
    kind: str
    html_uri: str | None
    created_by: str
    created_at: datetime


def _metric_sort(spec: Listing, sort: str) -> bool:
    return (
        spec.metric_sorts
        and sort.startswith(METRIC_PREFIX)
        and bool(_METRIC_KEY.match(sort[len(METRIC_PREFIX) :]))
    )


def _fingerprint(listing: str, sort: str, descending: bool, filters: Mapping[str, Any]) -> str:
    text = json.dumps([listing, sort, descending, filters], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode_cursor(key: Sequence[Any], fingerprint: str) -> str:
    """An opaque cursor for the row whose sort key is ``key`` (datetimes become ISO text)."""
    values = [v.isoformat() if isinstance(v, datetime) else v for v in key]
    raw = json.dumps({"q": fingerprint, "k": values}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, fingerprint: str) -> tuple[Any, ...]:
    """The sort key a cursor holds, if it belongs to the query with ``fingerprint``.

    Raises:
        InvalidInput: The cursor is malformed, or was made by another query.
    """
    bad = InvalidInput(
        "The 'cursor' parameter is not a cursor this listing gave out. Pass the "
        "'next_cursor' of the previous page unchanged, or leave it out for the first page.",
        details={"cursor": cursor[:64]},
    )
    if len(cursor) > _MAX_CURSOR:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError):
        raise bad from None
    if not isinstance(data, dict) or not isinstance(data.get("k"), list):
        raise bad
    if data.get("q") != fingerprint:
        raise InvalidInput(
            "The cursor belongs to another query: the sort, its direction or the filters "
            "changed since it was given out. Start again from the first page (no cursor).",
            details={"cursor": cursor[:64]},
        )
    if not all(v is None or isinstance(v, bool | int | float | str) for v in data["k"]):
        raise bad
    return tuple(data["k"])
