"""The audit trail's hash chain: each event carries the SHA-256 of itself and the one before.

The hash covers a canonical serialization (sorted keys, no spaces, UTC timestamps to the
microsecond) of every field an event shows except its row id, plus the previous event's hash;
the first event follows :data:`GENESIS`. Editing an event changes its hash; deleting or
reordering events breaks the link the next one holds. A single row, ``audit_head``, names the
newest event: every catalog write locks it first (``SELECT ... FOR UPDATE`` on PostgreSQL,
``BEGIN IMMEDIATE`` on SQLite), so two writers can never chain onto the same tail, and
cutting events off the end shows as a head that no event matches.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shipyard.catalog._tables import audit_events, audit_head

GENESIS = "0" * 64
"""The "previous hash" of the first event of a chain."""

HASHED_FIELDS = (
    "at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "face",
    "address",
    "details",
)
"""What an event's hash covers, besides the previous hash."""


def _timestamp(value: datetime) -> str:
    if value.tzinfo is None:  # SQLite hands timestamps back without their zone; they are UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_details(details: Any) -> Any:
    """``details`` as the JSON column will hand it back (so the hash survives a round trip)."""
    return json.loads(json.dumps(details or {}, sort_keys=True, default=str))


def event_hash(event: Mapping[str, Any] | Any, prev_hash: str) -> str:
    """The SHA-256 (hex) of ``event``'s hashed fields and ``prev_hash``."""
    body = {name: event.get(name) for name in HASHED_FIELDS}
    body["at"] = _timestamp(event["at"])
    body["details"] = canonical_details(body["details"])
    body["prev_hash"] = prev_hash
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def lock_head(conn: Connection) -> str | None:
    """Lock the chain's head row for the rest of the transaction and return its hash.

    A concurrent writer waits here until this transaction ends, then reads the new head. On
    SQLite the write transaction (BEGIN IMMEDIATE) holds the database lock already.
    """
    query = sa.select(audit_head.c.hash).where(audit_head.c.id == 1).with_for_update()
    result: str | None = conn.execute(query).scalar()
    return result


def append(conn: Connection, events: Iterable[dict[str, Any]]) -> list[int]:
    """Chain ``events`` onto the tail, inside the caller's transaction; returns their ids.

    The head is read under its lock (:func:`lock_head`, taken first by every catalog write),
    so two writers can never chain onto the same tail.
    """
    events = list(events)
    if not events:
        return []
    head = lock_head(conn)
    prev = head or GENESIS
    ids: list[int] = []
    for event in events:
        row = {**event, "details": canonical_details(event.get("details"))}
        row["prev_hash"] = prev
        row["hash"] = prev = event_hash(row, prev)
        result = conn.execute(audit_events.insert().values(**row))
        ids.append(int(result.inserted_primary_key[0]))  # type: ignore[index]
    values = {"hash": prev, "last_id": ids[-1]}
    if head is None:  # the migration made the head; only a hand-deleted one is remade here
        conn.execute(audit_head.insert().values(id=1, **values))
    else:
        conn.execute(audit_head.update().where(audit_head.c.id == 1).values(**values))
    return ids


@dataclass(frozen=True)
class ChainBreak:
    """Where the audit chain stops holding, and why."""

    event_id: int | None
    position: int
    reason: str


@dataclass(frozen=True)
class ChainReport:
    """The outcome of walking the audit chain from its first event to its head."""

    events: int
    head: str | None
    breaks: tuple[ChainBreak, ...]

    @property
    def ok(self) -> bool:
        return not self.breaks


def verify(rows: Iterator[Mapping[str, Any]], head: Mapping[str, Any] | None) -> ChainReport:
    """Walk ``rows`` (every event, in id order) and check each link and hash against ``head``.

    Reports every break, each with the event where it shows and what it means: an edited
    event (its hash does not match its content), a deleted or reordered event (its link does
    not match the event before), or events cut off the end (the head names an event that is
    gone). A broken link is followed on from the stored hash, so one edit is one break.
    """
    breaks: list[ChainBreak] = []
    prev, last_id, count = GENESIS, None, 0
    for count, row in enumerate(rows, start=1):
        if row["hash"] is None:
            breaks.append(ChainBreak(row["id"], count, "the event carries no hash"))
            continue
        if row["prev_hash"] != prev:
            why = (
                "an event before it was deleted, or events were reordered"
                if row["prev_hash"] != GENESIS
                else "it claims to be the first event, but events come before it"
            )
            breaks.append(ChainBreak(row["id"], count, f"its link does not match: {why}"))
        if event_hash(row, row["prev_hash"]) != row["hash"]:
            breaks.append(
                ChainBreak(row["id"], count, "its content does not match its hash: it was edited")
            )
        prev, last_id = row["hash"], row["id"]
    if head is not None and (head["hash"] != prev or head["last_id"] != (last_id or 0)):
        breaks.append(
            ChainBreak(
                last_id,
                count,
                f"the chain's head names event {head['last_id']}, but the last event is "
                f"{last_id}: events were cut off the end, or the last one was replaced",
            )
        )
    elif head is None and count:
        breaks.append(ChainBreak(last_id, count, "the chain has events but no head"))
    return ChainReport(events=count, head=head["hash"] if head else None, breaks=tuple(breaks))
