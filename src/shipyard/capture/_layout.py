"""Where captures live in the artifact store, and how to read a window of them.

``captures/<model>/v<version>/date=YYYY-MM-DD/hour=HH/part-<uuid>.parquet``: one folder per
model, version and hour (UTC) of ``captured_at``. Files are published whole (the artifact
store writes a blob under a temporary name and links it into place), so a reader globbing
``*.parquet`` never meets a half-written one.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    import duckdb
    from fsspec import AbstractFileSystem

    from shipyard.artifacts import ArtifactStore

__all__ = [
    "CAPTURES_PREFIX",
    "capture_globs",
    "capture_key",
    "capture_models",
    "capture_relation",
]

CAPTURES_PREFIX = "captures"
"""The artifact-store folder that holds every capture."""

_VERSION = re.compile(r"^v(\d+)$")
_DATE = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")
_HOUR = re.compile(r"^hour=(\d{2})$")


def capture_key(model: str, version: int, hour: datetime) -> str:
    """A fresh file key in the folder of ``model``, ``version`` and the UTC hour of ``hour``."""
    at = _utc(hour, "hour")
    return (
        f"{CAPTURES_PREFIX}/{model}/v{version}/date={at:%Y-%m-%d}/hour={at:%H}/"
        f"part-{uuid.uuid4().hex}.parquet"
    )


def capture_models(store: ArtifactStore) -> list[str]:
    """The names of the models that have captures, sorted."""
    return [entry.key.rsplit("/", 1)[-1] for entry in store.list_keys(CAPTURES_PREFIX)]


def capture_globs(
    store: ArtifactStore,
    model: str,
    *,
    version: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[str]:
    """Parquet globs, one per stored hour of ``model`` that overlaps ``[since, until)``.

    Each glob is a path (or URI, for an object store) of the form
    ``.../captures/<model>/v<N>/date=<d>/hour=<h>/*.parquet``, for the stored hours only, so
    ``read_parquet`` of the list never fails on a missing folder. Files are chosen by hour;
    rows still need ``captured_at`` filtered to the exact window (:func:`capture_relation`
    does it). Empty when nothing was captured in the window.

    Raises:
        InvalidInput: ``since`` or ``until`` has no time zone, or ``since`` is not before
            ``until``.
    """
    start = _utc(since, "since") if since is not None else None
    end = _utc(until, "until") if until is not None else None
    if start is not None and end is not None and start >= end:
        raise InvalidInput(
            f"The window must start before it ends. Got since={start.isoformat()} and "
            f"until={end.isoformat()}."
        )
    first_hour = start.replace(minute=0, second=0, microsecond=0) if start else None
    globs = []
    for version_key in _children(store, f"{CAPTURES_PREFIX}/{model}", _VERSION):
        if version is not None and version_key.rsplit("/v", 1)[-1] != str(version):
            continue
        for date_key in _children(store, version_key, _DATE):
            day = date.fromisoformat(date_key.rsplit("=", 1)[-1])
            if (first_hour and day < first_hour.date()) or (end and day > end.date()):
                continue
            for hour_key in _children(store, date_key, _HOUR):
                hour = datetime(day.year, day.month, day.day, int(hour_key[-2:]), tzinfo=UTC)
                if (first_hour and hour < first_hour) or (end and hour >= end):
                    continue
                globs.append(f"{_readable(store, hour_key)}/*.parquet")
    return globs


def capture_relation(
    con: duckdb.DuckDBPyConnection,
    store: ArtifactStore,
    model: str,
    *,
    version: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> duckdb.DuckDBPyRelation | None:
    """The captured rows of ``model`` (one ``version``, or all) in ``[since, until)``.

    Versions with different inputs are unioned by column name. ``None`` when no row was
    captured in the window, so a monitor can report an empty window instead of failing.
    For an object store, the store's file system is registered on ``con`` first.

    Raises:
        InvalidInput: As :func:`capture_globs`.
    """
    globs = capture_globs(store, model, version=version, since=since, until=until)
    if not globs:
        return None
    fs, _ = store.filesystem(CAPTURES_PREFIX)
    if not _is_local(fs):  # DuckDB reads local paths itself
        con.register_filesystem(fs)
    files = ", ".join(f"'{_quote(g)}'" for g in globs)
    where = []
    if since is not None:
        where.append(f"captured_at >= '{_utc(since, 'since').isoformat()}'::TIMESTAMPTZ")
    if until is not None:
        where.append(f"captured_at < '{_utc(until, 'until').isoformat()}'::TIMESTAMPTZ")
    if version is not None:
        where.append(f"model_version = {int(version)}")
    sql = f"SELECT * FROM read_parquet([{files}], union_by_name = true, hive_partitioning = false)"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return con.sql(sql)


def _is_local(fs: AbstractFileSystem) -> bool:
    protocols = (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)
    return "file" in protocols


def _readable(store: ArtifactStore, key: str) -> str:
    """``key`` as DuckDB reads it: a plain path on a local disk, else the store's URI."""
    fs, path = store.filesystem(key)
    return path if _is_local(fs) else str(fs.unstrip_protocol(path))


def _children(store: ArtifactStore, prefix: str, pattern: re.Pattern[str]) -> list[str]:
    return [e.key for e in store.list_keys(prefix) if pattern.match(e.key.rsplit("/", 1)[-1])]


def _utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidInput(
            f"The '{name}' parameter must be a datetime with a time zone (e.g. "
            f"datetime(2025, 1, 1, tzinfo=UTC)). Got {value!r} instead."
        )
    return value.astimezone(UTC)


def _quote(text: str) -> str:
    return text.replace("'", "''")
