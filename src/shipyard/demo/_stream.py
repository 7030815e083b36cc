"""Where the demo's replayed usage records travel: a Redis Stream when Redis answers, else
the embedded push path. Either way each batch lands in the feature store's online state and
offline log before it is scored."""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    import pyarrow as pa

    from shipyard.project import Project

__all__ = ["REDIS_ENV", "EventSink", "open_sink"]

REDIS_ENV = "SHIPYARD_DEMO_REDIS_URL"
_DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
_GROUP = "roaming_usage"


class EventSink:
    """Applies batches of usage records to the ``roaming_usage`` group, embedded."""

    name = "embedded push"

    def __init__(self, project: Project) -> None:
        self.project = project
        self.late = 0

    def send(self, batch: pa.Table) -> None:
        from shipyard.features import push

        self.late += push(self.project, _GROUP, batch).late

    def close(self) -> None:
        """Release what the sink holds (nothing for the embedded path)."""


class RedisSink(EventSink):
    """Adds each batch to a fresh Redis Stream, then consumes it into the group with
    :func:`shipyard.features.consume` (consumer group, acknowledged after the write)."""

    def __init__(self, project: Project, client: Any, base: str) -> None:
        super().__init__(project)
        from shipyard.online import mask_url

        self.client = client
        self.key = f"shipyard-demo-{uuid.uuid4().hex[:12]}"
        self.url = f"{base}/{self.key}"
        self.name = f"Redis Stream {mask_url(base)}/{self.key}"

    def send(self, batch: pa.Table) -> None:
        from shipyard.features import consume

        pipe = self.client.pipeline(transaction=False)
        for fields in _as_fields(batch):
            pipe.xadd(self.key, fields)
        pipe.execute()
        report = consume(self.project, _GROUP, self.url, max_events=batch.num_rows, batch=5000)
        self.late += report.late

    def close(self) -> None:
        try:
            self.client.delete(self.key)
        finally:
            self.client.close()


def _as_fields(batch: pa.Table) -> list[dict[str, str]]:
    """The records as stream entries: each non-null field as text (times in ISO-8601)."""
    import pyarrow.compute as pc

    columns = {}
    for name in batch.column_names:
        column = batch.column(name)
        if column.type == "bool":
            column = pc.if_else(column, "true", "false")
        columns[name] = pc.cast(column, "string").to_pylist()
    return [
        {k: v for k, v in zip(columns, values, strict=True) if v is not None}
        for values in zip(*columns.values(), strict=True)
    ]


def _redis_base() -> str:
    url = os.environ.get(REDIS_ENV) or _DEFAULT_REDIS
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    db = segments[0] if segments and segments[0].isdigit() else "0"
    return urlunsplit(parts._replace(path=f"/{db}", query="", fragment=""))


def open_sink(project: Project) -> EventSink:
    """A Redis Stream sink when Redis answers a ping within half a second, else embedded."""
    try:
        import redis
    except ImportError:  # pragma: no cover - redis is a dependency
        return EventSink(project)
    base = _redis_base()
    client = redis.Redis.from_url(base, socket_connect_timeout=0.5, socket_timeout=5)
    try:
        client.ping()
    except (redis.RedisError, OSError):
        client.close()
        return EventSink(project)
    return RedisSink(project, client, base)
