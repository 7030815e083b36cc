"""Publish a staged folder as the next dataset version: one rename, one catalog transaction."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shipyard._testhooks import crash_point
from shipyard.catalog import Catalog
from shipyard.entities import Actor, DatasetVersion
from shipyard.errors import InvalidInput, NotFound
from shipyard.lake.store import Lake

__all__ = ["Published", "publish_staged"]


@dataclass(frozen=True)
class Published:
    """The version a publish produced, or the latest one when the content was identical."""

    version: DatasetVersion
    unchanged: bool


def publish_staged(
    catalog: Catalog, lake: Lake, staged: Path, name: str, *, source: str, actor: Actor
) -> Published:
    """Measure the staged Parquet files and publish them as ``name@N``.

    Identical content to the latest version publishes nothing and reports ``unchanged``.
    If the catalog write fails, the published folder is removed again, so no half-made
    version is ever visible.

    Raises:
        InvalidInput: The staged data has no rows.
    """
    facts = lake.measure(staged)
    if facts.num_rows == 0:
        raise InvalidInput(f"The data for '{name}' has no rows. Nothing was stored.")
    try:
        latest: DatasetVersion | None = catalog.get_dataset_version(name)
    except NotFound:
        latest = None
    if latest is not None and latest.fingerprint == facts.fingerprint:
        return Published(latest, unchanged=True)
    crash_point("ingest_staged")
    location = lake.publish(staged, name)
    try:
        version = catalog.create_dataset_version(
            name,
            fingerprint=facts.fingerprint,
            columns=facts.columns,
            num_rows=facts.num_rows,
            num_bytes=facts.num_bytes,
            source=source,
            location=location,
            actor=actor,
        )
    except BaseException:
        lake.unpublish(location)
        raise
    return Published(version, unchanged=False)
