"""Consume a Redis Stream into a group: consumer group, acknowledge after the write, resume."""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import pyarrow as pa

from shipyard.errors import BackendUnavailable, InvalidInput
from shipyard.features._push import conform, push_table, source_schema
from shipyard.features._resolve import group_plan
from shipyard.online import mask_url

if TYPE_CHECKING:
    from shipyard.project import Project

__all__ = ["ConsumeReport", "consume", "parse_stream_url"]


@dataclass
class ConsumeReport:
    """What a consumer did: events read (``recovered`` of them were pending from a previous
    run), applied online, late (logged, not applied), and batches acknowledged."""

    group: str
    stream: str
    read: int = 0
    recovered: int = 0
    applied: int = 0
    late: int = 0
    batches: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def parse_stream_url(url: str) -> tuple[str, str]:
    """``redis://[:pw@]host:port/db/stream`` -> (the Redis URL, the stream's key).

    Raises:
        InvalidInput: Not a redis:// URL with a stream name after the database number.
    """
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    if parts.scheme not in ("redis", "rediss") or len(segments) != 2 or not segments[0].isdigit():
        raise InvalidInput(
            "The stream URL must look like redis://[:password@]host:6379/DB/STREAM. "
            f"Got '{mask_url(url)}' instead."
        )
    base = urlunsplit(parts._replace(path=f"/{segments[0]}", query="", fragment=""))
    return base, segments[1]


def _frame(entries: list[tuple[bytes, dict[bytes, bytes]]], schema: pa.Schema) -> pa.Table:
    """The entries' fields as a table of strings, cast to the source's types by ``conform``.

    A source column no entry carries is null (entries omit null fields); a field the source
    lacks is kept, so ``conform`` reports it."""
    given = (k.decode() for _, fields in entries for k in fields)
    names = list(dict.fromkeys([*schema.names, *given]))
    columns = {
        name: pa.array(
            [None if (v := f.get(name.encode())) is None else v.decode() for _, f in entries],
            pa.string(),
        )
        for name in names
    }
    return pa.table(columns)


def _ensure_group(client: Any, stream: str, name: str) -> None:
    import redis

    try:
        client.xgroup_create(stream, name, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def consume(
    project: Project,
    group: str,
    stream_url: str,
    *,
    consumer_group: str = "shipyard",
    consumer: str | None = None,
    max_events: int | None = None,
    idle_timeout: float | None = None,
    batch: int = 1000,
) -> ConsumeReport:
    """Apply a Redis Stream's events to ``group`` (online state and offline log).

    Reads with ``XREADGROUP`` as ``consumer`` of ``consumer_group`` (created at the stream's
    start if missing) and acknowledges a batch only after it is written, so a crash loses
    nothing: on restart the consumer first re-reads its pending entries, then new ones.
    Delivery is at least once: a crash between the write and the ``XACK`` applies that batch
    again. Each entry's fields are the source's columns, as text (ISO-8601 times).

    Args:
        max_events: Stop after this many events (None: no limit).
        idle_timeout: Stop after this many seconds without a new event (None: never).
        batch: Entries read and written per round.

    Raises:
        InvalidInput: A malformed stream URL, or entries that do not fit the source (left
            pending, not acknowledged).
        BackendUnavailable: Redis cannot be reached.
    """
    from shipyard.online import redis_client

    base, stream = parse_stream_url(stream_url)
    client = redis_client(base)
    plan = group_plan(project, group)
    schema = source_schema(project, plan)
    name = consumer or f"{socket.gethostname()}-{os.getpid()}"
    report = ConsumeReport(plan.group.ref, f"{mask_url(base)}/{stream}")
    import redis

    try:
        _ensure_group(client, stream, consumer_group)
        _loop(
            project, plan, client, (stream, consumer_group, name), schema, report,
            max_events, idle_timeout, batch,
        )  # fmt: skip
    except redis.RedisError as exc:
        raise BackendUnavailable(
            f"Reading the stream {report.stream} failed: {type(exc).__name__}: {exc}."
        ) from exc
    finally:
        client.close()
    return report


def _loop(
    project: Project,
    plan: Any,
    client: Any,
    where: tuple[str, str, str],
    schema: pa.Schema,
    report: ConsumeReport,
    max_events: int | None,
    idle_timeout: float | None,
    batch: int,
) -> None:
    stream, consumer_group, name = where
    recovering = True  # "0": this consumer's pending entries first, then ">" (new ones)
    idle_since = time.monotonic()
    while max_events is None or report.read < max_events:
        count = batch if max_events is None else min(batch, max_events - report.read)
        block = None if recovering else 500
        response = client.xreadgroup(
            consumer_group, name, {stream: "0" if recovering else ">"}, count=count, block=block
        )
        entries = [(i, f) for i, f in (response[0][1] if response else []) if f]
        if not entries:
            if recovering:
                recovering = False
                continue
            if idle_timeout is not None and time.monotonic() - idle_since >= idle_timeout:
                return
            continue
        idle_since = time.monotonic()
        table = conform(_frame(entries, schema), schema, plan.group.ref)
        pushed = push_table(project, plan, table)
        client.xack(stream, consumer_group, *[entry_id for entry_id, _ in entries])
        report.read += len(entries)
        report.recovered += len(entries) if recovering else 0
        report.applied += pushed.applied
        report.late += pushed.late
        report.batches += 1
