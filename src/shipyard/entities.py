"""Frozen snapshots of the objects Shipyard keeps: safe to pass around and to serialize."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shipyard.types import JSON

__all__ = [
    "Actor",
    "ApiToken",
    "AuditEvent",
    "ColumnSchema",
    "DatasetVersion",
    "ModelVersion",
    "Report",
    "Run",
    "to_json",
]


@dataclass(frozen=True)
class Actor:
    """Who is making a change, through which face (cli, sdk, api, serve, ui), and from which
    client address when the face is a network server."""

    name: str
    face: str = "sdk"
    address: str | None = None


@dataclass(frozen=True)
class ColumnSchema:
    """One column of a dataset: its name and its DuckDB/Arrow type as text."""

    name: str
    type: str


@dataclass(frozen=True)
class DatasetVersion:
    """An immutable version ``name@version`` of a dataset in the lake."""

    name: str
    version: int
    fingerprint: str
    columns: tuple[ColumnSchema, ...]
    num_rows: int
    num_bytes: int
    source: str
    location: str
    created_by: str
    created_at: datetime

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class Run:
    """One training run (an AutoML trial or a single fit) with what it used and produced."""

    id: str
    experiment: str
    name: str
    status: str
    params: JSON
    metrics: JSON
    tags: JSON
    inputs: JSON
    outputs: JSON
    created_by: str
    started_at: datetime
    ended_at: datetime | None = None
    error: str | None = None
    host: str | None = None  # the machine and process that run it
    pid: int | None = None
    heartbeat_at: datetime | None = None  # last sign of life while running


@dataclass(frozen=True)
class ModelVersion:
    """A registered model version ``name:version`` and the bundle it points at.

    ``status`` is ``ready`` for a version that can be resolved, loaded and promoted, or
    ``pending`` while the job that registered it still writes its evaluation report, or
    ``abandoned`` when that job failed or died first (hidden for good).
    """

    name: str
    version: int
    run_id: str | None
    bundle_uri: str
    problem_type: str
    signature: JSON
    metrics: JSON
    lineage: JSON
    created_by: str
    created_at: datetime
    aliases: tuple[str, ...] = ()
    status: str = "ready"

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}"


@dataclass(frozen=True)
class AuditEvent:
    """Who did what, when, to which object, from which face."""

    id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    face: str
    details: JSON = field(default_factory=dict)
    address: str | None = None
    prev_hash: str | None = None
    hash: str | None = None


@dataclass(frozen=True)
class ApiToken:
    """A bearer token's record: its role in one environment (or ``all``), never its secret.

    ``secret_hash`` is the SHA-256 of the secret part; the token itself is shown once, when
    it is created, and stored nowhere.
    """

    id: str
    name: str
    role: str
    env: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    secret_hash: str = field(default="", repr=False)


@dataclass(frozen=True)
class Report:
    """A stored analysis of an object (a profile of a dataset version, an evaluation, ...)."""

    subject: str
    kind: str
    payload: JSON
    html_uri: str | None
    created_by: str
    created_at: datetime


def to_json(obj: Any) -> Any:
    """A JSON-ready form of an entity (datetimes as ISO strings), lists and dicts recursively."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_json(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, dict):
        return {str(k): to_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_json(v) for v in obj]
    return obj
