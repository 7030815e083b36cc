"""Garbage collection: artifacts and lake folders that no catalog row can ever name.

The catalog is the truth. A model bundle (or its report pages) belongs to a version that is
ready, or pending while its job still runs; a lake folder belongs to a dataset version. What
a killed job left is garbage: the bundle of an abandoned version at once, and a folder no
row names at all once it is older than ``GRACE`` (a younger one may be a write whose catalog
row is being recorded right now). So is the hidden temporary file (``.part-*.tmp``) of a
capture file whose writer died while publishing it, once older than ``GRACE``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shipyard.entities import ModelVersion
from shipyard.errors import NotFound
from shipyard.project import Project
from shipyard.tracking import fail_dead_runs

__all__ = ["GRACE", "Garbage", "GcResult", "collect_garbage"]

GRACE = timedelta(hours=1)
"""How old a folder no catalog row names must be before it counts as garbage."""


@dataclass(frozen=True)
class Garbage:
    """Something to remove: a ``bundle``, ``report`` or ``capture-temp`` file (artifact
    key) or a ``dataset`` folder (lake location), and why it is garbage."""

    kind: str
    location: str
    reason: str


@dataclass(frozen=True)
class GcResult:
    """What garbage collection found, and whether it was deleted."""

    garbage: tuple[Garbage, ...]
    deleted: bool


def collect_garbage(
    project: Project, *, delete: bool = False, grace: timedelta = GRACE
) -> GcResult:
    """Find (and with ``delete``, remove) bundles, report pages and lake folders that no
    ready or live model version, or dataset version, names. Runs whose process died are
    failed first, which abandons the versions they registered pending.

    Raises:
        BackendUnavailable: The catalog or the artifact store cannot be reached.
    """
    fail_dead_runs(project.catalog, project.actor)
    cutoff = datetime.now(UTC) - grace
    found = [
        *_model_garbage(project, cutoff),
        *_lake_garbage(project, cutoff),
        *_capture_garbage(project, cutoff),
    ]
    if delete:
        for item in found:
            _remove(project, item)
    return GcResult(tuple(found), delete)


def _model_garbage(project: Project, cutoff: datetime) -> list[Garbage]:
    artifacts = project.artifacts
    live: set[str] = set()
    dead: dict[str, ModelVersion] = {}
    for v in project.catalog.list_model_versions(include_pending=True):
        try:
            key = artifacts.key_of(v.bundle_uri)
        except NotFound:
            continue
        keys = (key, f"reports/models/{v.name}/{v.version}")
        if _usable(project, v, cutoff):
            live.update(keys)
        else:
            dead.update(dict.fromkeys(keys, v))
    found = []
    for kind, root in (("bundle", "models"), ("report", "reports/models")):
        for model in artifacts.list_keys(root):
            for entry in artifacts.list_keys(model.key):
                if entry.key in live:
                    continue
                if entry.key in dead:
                    version = dead[entry.key]
                    why = f"of {version.ref}, whose job died before publishing it"
                elif entry.modified is None or entry.modified < cutoff:
                    why = "that no model version names (its job died while registering it)"
                else:
                    continue  # young: maybe a version being registered now
                found.append(Garbage(kind, entry.key, f"A {kind} {why}."))
    return found


def _usable(project: Project, version: ModelVersion, cutoff: datetime) -> bool:
    """Ready, or pending for a job that still runs (or, without a run, was registered
    recently); an abandoned version never is."""
    if version.status != "pending":
        return version.status == "ready"
    if version.run_id is None:
        return version.created_at > cutoff
    try:
        return project.catalog.get_run(version.run_id).status == "running"
    except NotFound:
        return False


def _lake_garbage(project: Project, cutoff: datetime) -> list[Garbage]:
    named = {v.location for v in project.catalog.list_dataset_versions()}
    return [
        Garbage(
            "dataset",
            location,
            "A lake folder that no dataset version names (its ingest died while publishing it).",
        )
        for location, modified in project.lake.folders()
        if location not in named and modified < cutoff
    ]


# What the artifact store's atomic publish writes first: ``.<name>.<hex>.tmp`` beside
# ``part-<hex>.parquet``. Listings hide it; a writer killed mid-write leaves it behind.
_CAPTURE_TEMP = re.compile(r"^\.part-[0-9a-f]+\.parquet\.[0-9a-f]+\.tmp$")


def _capture_garbage(project: Project, cutoff: datetime) -> list[Garbage]:
    """Temporary capture files older than ``cutoff`` (a younger one may be written now)."""
    from shipyard.capture import CAPTURES_PREFIX

    fs, root = project.artifacts.filesystem(CAPTURES_PREFIX)
    try:
        entries: dict[str, dict[str, Any]] = fs.find(root, detail=True)
    except FileNotFoundError:
        return []
    found = []
    base = root.rstrip("/")
    for path, info in sorted(entries.items()):
        if not _CAPTURE_TEMP.match(path.rsplit("/", 1)[-1]):
            continue
        modified = _modified(info)
        if modified is None or modified >= cutoff:  # unknown age: leave it
            continue
        key = f"{CAPTURES_PREFIX}{path[len(base) :]}" if path.startswith(base) else None
        if key is None:
            continue
        found.append(
            Garbage(
                "capture-temp",
                key,
                "A temporary capture file whose writer died before publishing it.",
            )
        )
    return found


def _modified(info: dict[str, Any]) -> datetime | None:
    value = info.get("mtime") or info.get("LastModified") or info.get("created")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return None


def _remove(project: Project, item: Garbage) -> None:
    if item.kind == "dataset":
        project.lake.unpublish(item.location)
    else:
        try:
            project.artifacts.delete(item.location)
        except NotFound:  # removed meanwhile
            return
    project.catalog.record_event(
        "gc.delete", item.kind, item.location, actor=project.actor, details={"why": item.reason}
    )
