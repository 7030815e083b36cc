"""Check that dataset versions still hold the content they were published with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import duckdb

from shipyard.entities import DatasetVersion
from shipyard.errors import InvalidInput, NotFound
from shipyard.lake._guard import error_text
from shipyard.lake._workspace import Workspace

__all__ = ["VersionCheck", "verify_datasets"]


@dataclass(frozen=True)
class VersionCheck:
    """One dataset version's verdict: its recorded fingerprint against a fresh measure.

    ``status`` is ``ok`` (identical content), ``changed`` (rows, schema or values differ) or
    ``missing`` (its files are gone or unreadable); ``detail`` says what differs.
    """

    ref: str
    status: Literal["ok", "changed", "missing"]
    expected: str
    found: str | None
    detail: str

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def verify_datasets(
    project: Workspace, name: str | None = None, version: int | None = None
) -> list[VersionCheck]:
    """Recompute the fingerprint of each version (of ``name``, or of every dataset).

    The fingerprint is measured exactly as ingest measured it when it published the version.

    Raises:
        NotFound: ``name`` (or ``name@version``) is not a dataset.
        InvalidInput: A version is given without a name.
    """
    if version is not None:
        if name is None:
            raise InvalidInput("Give the dataset's name with its version, e.g. 'usage@2'.")
        versions = [project.catalog.get_dataset_version(name, version)]
    else:
        versions = project.catalog.list_dataset_versions(name)
        if name is not None and not versions:
            project.catalog.get_dataset_version(name)  # raises NotFound with a suggestion
            raise NotFound(f"Dataset '{name}' has no versions.")
    return [_check(project, v) for v in versions]


def _check(project: Workspace, v: DatasetVersion) -> VersionCheck:
    folder = project.lake.root / v.location
    if not any(folder.glob("*.parquet")):
        return VersionCheck(v.ref, "missing", v.fingerprint, None, f"no Parquet files in {folder}")
    try:
        facts = project.lake.measure(folder)
    except duckdb.Error as exc:
        return VersionCheck(v.ref, "missing", v.fingerprint, None, error_text(exc))
    if facts.fingerprint == v.fingerprint:
        return VersionCheck(v.ref, "ok", v.fingerprint, facts.fingerprint, "")
    differences = []
    if facts.num_rows != v.num_rows:
        differences.append(f"{v.num_rows:,} rows recorded, {facts.num_rows:,} found")
    if facts.columns != tuple(v.columns):
        differences.append("the schema differs")
    detail = "; ".join(differences) or "the values differ"
    return VersionCheck(v.ref, "changed", v.fingerprint, facts.fingerprint, detail)
