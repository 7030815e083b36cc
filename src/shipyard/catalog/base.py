"""The metadata catalog port: what every catalog backend promises."""

from __future__ import annotations

import abc
from collections.abc import Sequence

from shipyard.entities import (
    Actor,
    AuditEvent,
    ColumnSchema,
    DatasetVersion,
    ModelVersion,
    Report,
    Run,
)
from shipyard.types import JSON

__all__ = ["Catalog"]


class Catalog(abc.ABC):
    """Shipyard's metadata: dataset versions, runs, model versions, aliases, reports, audit.

    Contract, for every implementation:

    * Thread safe: one instance may be shared by the threads of a server.
    * Every method returns frozen entities; nothing returned aliases internal state.
    * Every change is one transaction, and it writes its audit event in that same transaction:
      either both are stored or neither is.
    * Version numbers are allocated without gaps or duplicates under concurrent writers
      (several processes on one SQLite file, or several machines on one PostgreSQL).
    * Errors: an unknown object raises :class:`~shipyard.errors.NotFound`; a duplicate key
      :class:`~shipyard.errors.AlreadyExists`; an unreachable database
      :class:`~shipyard.errors.BackendUnavailable`. No driver exception escapes.
    """

    # --- datasets -------------------------------------------------------------------------
    @abc.abstractmethod
    def create_dataset_version(
        self,
        name: str,
        *,
        fingerprint: str,
        columns: Sequence[ColumnSchema],
        num_rows: int,
        num_bytes: int,
        source: str,
        location: str,
        actor: Actor,
    ) -> DatasetVersion:
        """Record the next version of dataset ``name`` (1 for a new name) and return it."""

    @abc.abstractmethod
    def get_dataset_version(self, name: str, version: int | None = None) -> DatasetVersion:
        """The given version of ``name``, or its latest when ``version`` is None.

        Raises:
            NotFound: No such dataset or version; the message suggests a close name.
        """

    @abc.abstractmethod
    def list_dataset_versions(self, name: str | None = None) -> list[DatasetVersion]:
        """Every version of ``name`` (or of every dataset), oldest first."""

    # --- runs -----------------------------------------------------------------------------
    @abc.abstractmethod
    def create_run(
        self,
        *,
        experiment: str,
        name: str,
        params: JSON,
        tags: JSON,
        inputs: JSON,
        actor: Actor,
    ) -> Run:
        """Start a run in ``experiment`` with status ``running`` and return it.

        The run records the calling process (``host``, ``pid``) and a first ``heartbeat_at``,
        so that a run whose process died can be told from one still going.
        """

    @abc.abstractmethod
    def heartbeat(self, host: str, pid: int) -> int:
        """Mark every running run of that process as alive now; returns how many."""

    @abc.abstractmethod
    def log_metrics(self, run_id: str, metrics: dict[str, float], step: int | None = None) -> None:
        """Append metric values; with ``step`` they form a curve (one point per step)."""

    @abc.abstractmethod
    def log_curve(self, run_id: str, key: str, points: Sequence[tuple[int, float]]) -> None:
        """Append a whole curve (step, value) in one transaction (e.g. loss per round)."""

    @abc.abstractmethod
    def metric_history(self, run_id: str, key: str) -> list[tuple[int, float]]:
        """The (step, value) points logged for ``key``, in step order."""

    @abc.abstractmethod
    def finish_run(
        self,
        run_id: str,
        *,
        status: str,
        metrics: JSON | None = None,
        outputs: JSON | None = None,
        error: str | None = None,
        actor: Actor,
    ) -> Run:
        """End a run as ``finished`` or ``failed``, merging final metrics and outputs."""

    @abc.abstractmethod
    def get_run(self, run_id: str) -> Run:
        """The run with that id (a unique prefix of at least 6 characters also works)."""

    @abc.abstractmethod
    def list_runs(self, experiment: str | None = None, *, status: str | None = None) -> list[Run]:
        """Runs, newest first, optionally of one experiment and one status."""

    # --- models ---------------------------------------------------------------------------
    @abc.abstractmethod
    def create_model_version(
        self,
        name: str,
        *,
        run_id: str | None,
        bundle_uri: str,
        problem_type: str,
        signature: JSON,
        metrics: JSON,
        lineage: JSON,
        actor: Actor,
    ) -> ModelVersion:
        """Register the next version of model ``name`` and return it."""

    @abc.abstractmethod
    def get_model_version(self, name: str, version: int | None = None) -> ModelVersion:
        """The given version of model ``name`` (latest when None), with its aliases."""

    @abc.abstractmethod
    def list_model_versions(self, name: str | None = None) -> list[ModelVersion]:
        """Every version of ``name`` (or of every model), oldest first."""

    @abc.abstractmethod
    def set_alias(self, name: str, alias: str, version: int, *, actor: Actor) -> ModelVersion:
        """Point ``name@alias`` at ``version`` (moving it if it pointed elsewhere)."""

    @abc.abstractmethod
    def resolve_alias(self, name: str, alias: str) -> ModelVersion:
        """The version ``name@alias`` points at.

        Raises:
            NotFound: The model or the alias does not exist; the message lists the aliases.
        """

    # --- reports --------------------------------------------------------------------------
    @abc.abstractmethod
    def put_report(
        self, subject: str, kind: str, payload: JSON, *, html_uri: str | None, actor: Actor
    ) -> Report:
        """Store (or replace) the report of ``kind`` about ``subject``."""

    @abc.abstractmethod
    def get_report(self, subject: str, kind: str) -> Report:
        """The report of ``kind`` about ``subject``; NotFound when none was stored."""

    # --- audit ----------------------------------------------------------------------------
    @abc.abstractmethod
    def record_event(
        self, action: str, object_type: str, object_id: str, *, actor: Actor, details: JSON
    ) -> AuditEvent:
        """Append an audit event for something that changed outside the catalog."""

    @abc.abstractmethod
    def list_events(self, limit: int = 100, object_type: str | None = None) -> list[AuditEvent]:
        """The newest audit events first."""

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Release connections. The instance may not be used afterwards."""
