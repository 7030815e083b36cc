"""Frozen snapshots of the objects Shipyard keeps: safe to pass around and to serialize."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shipyard.types import JSON

APPROVAL_STATUSES = ("PendingManualApproval", "Approved", "Rejected")
"""A model version's approval status (SageMaker Model Registry's names); new versions are
``PendingManualApproval``."""

__all__ = [
    "APPROVAL_STATUSES",
    "Actor",
    "Alert",
    "ApiToken",
    "ApprovalChange",
    "AuditEvent",
    "ColumnSchema",
    "DatasetVersion",
    "Endpoint",
    "FeatureDefinition",
    "GateResult",
    "ModelVersion",
    "Monitor",
    "MonitorRun",
    "PipelineDefinition",
    "PipelineRun",
    "PipelineStep",
    "PromotionRecord",
    "Report",
    "Run",
    "Schedule",
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
    ``abandoned`` when that job failed or died first (hidden for good). ``approval`` is one
    of :data:`APPROVAL_STATUSES`.
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
    approval: str = "PendingManualApproval"

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}"


@dataclass(frozen=True)
class ApprovalChange:
    """One change of a model version's approval status: from what, to what, by whom, when,
    and why."""

    name: str
    version: int
    status: str
    previous: str
    comment: str
    changed_by: str
    changed_at: datetime

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}"


@dataclass(frozen=True)
class GateResult:
    """One promotion gate's verdict on a model version: its name (approval, baseline,
    diagnostics, champion, bias), whether it passed, a one-line summary with the numbers, and
    the evidence behind it (JSON)."""

    gate: str
    passed: bool
    summary: str
    evidence: JSON = field(default_factory=dict)


@dataclass(frozen=True)
class PromotionRecord:
    """A promotion of ``name:version`` into ``environment`` and the gates it was checked by.

    ``outcome`` is ``promoted`` (every gate passed), ``forced`` (a gate failed, overridden
    with ``reason``) or ``refused`` (a gate failed; the alias was not moved).
    """

    id: int
    name: str
    version: int
    environment: str
    outcome: str
    gates: tuple[GateResult, ...]
    reason: str | None
    created_by: str
    created_at: datetime

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}"

    @property
    def failed(self) -> tuple[str, ...]:
        """The names of the gates that did not pass."""
        return tuple(g.gate for g in self.gates if not g.passed)


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


@dataclass(frozen=True)
class FeatureDefinition:
    """A stored version ``name:version`` of a feature-store entity or feature group.

    ``kind`` is ``entity`` or ``group``; ``definition`` is its canonical JSON, ``fingerprint``
    the SHA-256 of that JSON (equal definitions, equal fingerprints). ``changed`` is set by an
    apply: true when this version was made by it, false when the definition was unchanged.
    """

    kind: str
    name: str
    version: int
    definition: JSON
    fingerprint: str
    created_by: str
    created_at: datetime
    changed: bool = False

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}"


@dataclass(frozen=True)
class Monitor:
    """A monitor: which model it watches (a ref such as ``fraud@prod``), which kinds of check
    it runs on each window of captured rows, and what it does on a violation.

    ``labels`` is ``{}`` or ``{"dataset", "label", "key": [...]}`` (the ground truth and how
    it joins captured rows); ``webhook`` is ``{}`` or ``{"url", "secret_env"}``; ``action``
    is a command run on violation (the retraining trigger), or None.
    """

    name: str
    model: str
    kinds: tuple[str, ...]
    schedule: str | None
    window_seconds: int
    labels: JSON
    action: str | None
    webhook: JSON
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class MonitorRun:
    """One run of a monitor over one window ``[window_start, window_end)`` and its report.

    ``status`` is ``ok``, ``violations`` or ``empty`` (no captured row in the window).
    """

    id: int
    monitor: str
    window_start: datetime
    window_end: datetime
    status: str
    report: JSON
    html_uri: str | None
    violations: int
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class Alert:
    """A violation a monitor run found: its severity, the monitor kind and the violation type
    (SageMaker Model Monitor's names where one exists), the window and the evidence.

    ``status`` is ``open`` or ``acked``; ``notified`` records each notifier's outcome.
    """

    id: int
    monitor: str
    window_start: datetime
    window_end: datetime
    severity: str
    kind: str
    violation: str
    evidence: JSON
    status: str
    notified: JSON
    created_at: datetime
    acked_by: str | None = None
    acked_at: datetime | None = None
    comment: str | None = None


@dataclass(frozen=True)
class Endpoint:
    """One revision of an endpoint: what it serves in an environment, and since when.

    ``config`` is what a user asked for (``variants`` with their weights, ``shadow``,
    ``capture``, ``sticky_key``, ``guardrail``, ``rollback_on``; see
    :mod:`shipyard.deploy.endpoints`); ``state`` is how far its roll-out got (``phase``
    ``live`` or ``baking``, the canary's ``share``, the ``baseline`` it shifts from).
    ``action`` says what made the revision (``create``, ``update``, ``rollback``,
    ``auto-rollback``, ``guardrail``); a rollback's ``restores`` is the revision whose
    configuration it brought back. ``created_*`` is the endpoint's, ``updated_*`` this
    revision's.
    """

    env: str
    name: str
    revision: int
    config: JSON
    state: JSON
    action: str
    restores: int | None
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime

    @property
    def ref(self) -> str:
        return f"{self.env}/{self.name}"


@dataclass(frozen=True)
class PipelineDefinition:
    """A stored version ``name:version`` of a pipeline: its canonical definition (parameters
    and steps, as JSON), the SHA-256 of that JSON, and the file it was read from.

    ``changed`` is set by a registration: true when this version was made by it.
    """

    name: str
    version: int
    definition: JSON
    fingerprint: str
    source: str | None
    created_by: str
    created_at: datetime
    changed: bool = False

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}"


@dataclass(frozen=True)
class PipelineRun:
    """One run of a pipeline version with its parameters.

    ``status`` is ``running``, ``finished`` or ``failed``. ``trigger`` says what started it
    (``manual``, ``schedule``, ``monitor:NAME``, ``resume``); ``resumed_from`` is the run a
    resume continues. ``host``/``pid``/``heartbeat_at`` tell a live run from a dead one.
    """

    id: str
    pipeline: str
    version: int
    status: str
    params: JSON
    trigger: str
    resumed_from: str | None
    created_by: str
    started_at: datetime
    ended_at: datetime | None = None
    error: str | None = None
    host: str | None = None
    pid: int | None = None
    heartbeat_at: datetime | None = None


@dataclass(frozen=True)
class PipelineStep:
    """One step of a pipeline run: what it was given and made, and how it went.

    ``status`` is ``pending``, ``running``, ``finished``, ``cached`` (outputs reused from
    ``cached_from``, the run that made them), ``skipped`` (its condition was false),
    ``failed`` or ``cancelled`` (not run because the run failed first). ``cache_key`` is the
    SHA-256 of its inputs' content, its configuration and its code version.
    """

    run_id: str
    step: str
    position: int
    status: str
    attempts: int = 0
    cache_key: str | None = None
    inputs: JSON = field(default_factory=dict)
    outputs: JSON = field(default_factory=dict)
    logs: str = ""
    error: str | None = None
    cached_from: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def seconds(self) -> float | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class Schedule:
    """When a pipeline runs by itself: a cron expression (UTC), the parameters it runs with,
    the next time it is due, and its last run. ``missed`` is the policy for slots missed
    while no scheduler ran: ``once`` (one run on catch-up) or ``skip``."""

    pipeline: str
    cron: str
    params: JSON
    missed: str
    next_run_at: datetime
    last_run_at: datetime | None
    last_run_id: str | None
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
