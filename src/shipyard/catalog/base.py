"""The metadata catalog port: what every catalog backend promises."""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shipyard.catalog._approval_port import ApprovalPort
from shipyard.catalog._endpoint_port import EndpointPort
from shipyard.catalog._monitor_port import MonitorPort
from shipyard.catalog._paging_port import PagingPort
from shipyard.catalog._pipeline_port import PipelinePort
from shipyard.entities import (
    Actor,
    ApiToken,
    AuditEvent,
    ColumnSchema,
    DatasetVersion,
    FeatureDefinition,
    ModelVersion,
    Report,
    Run,
)
from shipyard.types import JSON

if TYPE_CHECKING:
    from shipyard.catalog._chain import ChainReport

__all__ = ["Catalog"]


class Catalog(MonitorPort, ApprovalPort, EndpointPort, PipelinePort, PagingPort, abc.ABC):
    """Shipyard's metadata: dataset versions, runs, model versions, aliases, reports, audit.

    Contract, for every implementation:

    * Thread safe: one instance may be shared by the threads of a server.
    * Every method returns frozen entities; nothing returned aliases internal state.
    * Every change is one transaction, and it writes its audit event in that same transaction:
      either both are stored or neither is. Events form one hash chain that never forks under
      concurrent writers: each carries the hash of the one before (see ``_chain``).
    * Version numbers are allocated without gaps or duplicates under concurrent writers
      (several processes on one SQLite file, or several machines on one PostgreSQL).
    * Errors: an unknown object raises :class:`~shipyard.errors.NotFound`; a duplicate key
      :class:`~shipyard.errors.AlreadyExists`; a value the store refuses (missing, too long)
      :class:`~shipyard.errors.InvalidInput`; a write that lost a race it could not win by
      retrying :class:`~shipyard.errors.Conflict`; an unreachable, failing or unreadable
      database :class:`~shipyard.errors.BackendUnavailable`. No driver exception escapes, and
      a failed write leaves nothing behind.
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
        """Record the next version of dataset ``name`` (1 for a new name) and return it.

        Raises:
            InvalidInput: A value the catalog cannot store (e.g. a name over 128 characters).
            Conflict: Concurrent writers kept taking the next version number; nothing was
                written, and trying again is safe.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def get_dataset_version(self, name: str, version: int | None = None) -> DatasetVersion:
        """The given version of ``name``, or its latest when ``version`` is None.

        Raises:
            NotFound: No such dataset or version; the message suggests a close name.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def list_dataset_versions(self, name: str | None = None) -> list[DatasetVersion]:
        """Every version of ``name`` (or of every dataset), oldest first; [] when none.

        Raises:
            BackendUnavailable: The database cannot be reached or failed.
        """

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

        Raises:
            InvalidInput: A value the catalog cannot store.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def heartbeat(self, host: str, pid: int) -> int:
        """Mark every running run of that process as alive now; returns how many.

        Raises:
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def log_metrics(self, run_id: str, metrics: dict[str, float], step: int | None = None) -> None:
        """Append metric values; with ``step`` they form a curve (one point per step).

        Raises:
            NotFound: No run has that id (or unique prefix).
            InvalidInput: The prefix matches several runs.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def log_curve(self, run_id: str, key: str, points: Sequence[tuple[int, float]]) -> None:
        """Append a whole curve (step, value) in one transaction (e.g. loss per round).

        Raises:
            NotFound: No run has that id (or unique prefix).
            InvalidInput: The prefix matches several runs.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def metric_history(self, run_id: str, key: str) -> list[tuple[int, float]]:
        """The (step, value) points logged for ``key``, in step order; [] when none.

        Raises:
            NotFound: No run has that id (or unique prefix).
            InvalidInput: The prefix matches several runs.
            BackendUnavailable: The database cannot be reached or failed.
        """

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
        """End a run as ``finished`` or ``failed``, merging final metrics and outputs.

        Failing a run abandons, in the same transaction, the model versions it registered
        pending: their status becomes ``abandoned`` and they are never published.

        Raises:
            InvalidInput: ``status`` is neither ``finished`` nor ``failed``, or the prefix
                matches several runs.
            NotFound: No run has that id (or unique prefix).
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def get_run(self, run_id: str) -> Run:
        """The run with that id (a unique prefix of at least 6 characters also works).

        Raises:
            NotFound: No run has that id (or unique prefix).
            InvalidInput: The prefix matches several runs.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def list_runs(self, experiment: str | None = None, *, status: str | None = None) -> list[Run]:
        """Runs, newest first, optionally of one experiment and one status; [] when none.

        Raises:
            BackendUnavailable: The database cannot be reached or failed.
        """

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
        pending: bool = False,
    ) -> ModelVersion:
        """Register the next version of model ``name`` and return it.

        With ``pending``, the version is recorded (its number is taken for good) but stays
        hidden: reads, listings and aliases ignore it until :meth:`publish_model_version`
        makes it ready. A pending version whose job died is never shown.

        Raises:
            InvalidInput: A value the catalog cannot store (e.g. a name over 128 characters).
            Conflict: Concurrent writers kept taking the next version number; nothing was
                written, and trying again is safe.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def publish_model_version(
        self,
        name: str,
        version: int,
        *,
        run_metrics: JSON | None = None,
        run_outputs: JSON | None = None,
        actor: Actor,
    ) -> ModelVersion:
        """Make a pending version ready and, in the same transaction, finish the run that
        registered it (``finished``, merging ``run_metrics`` and ``run_outputs``).

        Either both happen or neither: a job killed before this call leaves its version
        pending and its run running (until the liveness repair fails it).

        Raises:
            NotFound: No such model or version.
            Conflict: The version is not pending (published already, or abandoned because
                its run failed), or its run is no longer running; nothing was written.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def get_model_version(self, name: str, version: int | None = None) -> ModelVersion:
        """The given version of model ``name`` (latest ready one when None), with its aliases.

        Raises:
            NotFound: No such model or version, or the version is pending (the message says
                so); the message suggests a close name.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def list_model_versions(
        self, name: str | None = None, *, include_pending: bool = False
    ) -> list[ModelVersion]:
        """Every ready version of ``name`` (or of every model), oldest first; [] when none.
        ``include_pending`` adds the pending and abandoned ones (see their ``status``).

        Raises:
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def set_alias(self, name: str, alias: str, version: int, *, actor: Actor) -> ModelVersion:
        """Point ``name@alias`` at ``version`` (moving it if it pointed elsewhere).

        Raises:
            NotFound: No such model or version, or the version is pending.
            Conflict: Concurrent writers kept creating the same alias; nothing was written.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def resolve_alias(self, name: str, alias: str) -> ModelVersion:
        """The version ``name@alias`` points at.

        Raises:
            NotFound: The model or the alias does not exist; the message lists the aliases.
            BackendUnavailable: The database cannot be reached or failed.
        """

    # --- reports --------------------------------------------------------------------------
    @abc.abstractmethod
    def put_report(
        self, subject: str, kind: str, payload: JSON, *, html_uri: str | None, actor: Actor
    ) -> Report:
        """Store (or replace) the report of ``kind`` about ``subject``.

        Raises:
            InvalidInput: A value the catalog cannot store.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def get_report(self, subject: str, kind: str) -> Report:
        """The report of ``kind`` about ``subject``.

        Raises:
            NotFound: No report of that kind was stored about ``subject``.
            BackendUnavailable: The database cannot be reached or failed.
        """

    # --- feature store --------------------------------------------------------------------
    @abc.abstractmethod
    def apply_feature_definitions(
        self, definitions: Sequence[tuple[str, str, JSON]], *, actor: Actor
    ) -> list[FeatureDefinition]:
        """Store ``(kind, name, definition)`` items (kind ``entity`` or ``group``) in one
        transaction: each gets a new version when its definition differs from its latest
        version's (``changed`` true), else its latest version is returned (``changed`` false).

        All are stored or none; each new version writes a ``feature.apply`` audit event.

        Raises:
            InvalidInput: An unknown kind, or a value the catalog cannot store.
            Conflict: Concurrent writers kept taking the next version number; nothing was
                written, and trying again is safe.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def get_feature_definition(
        self, kind: str, name: str, version: int | None = None
    ) -> FeatureDefinition:
        """The given version of the entity or group ``name`` (its latest when None).

        Raises:
            NotFound: No such entity, group or version; the message suggests a close name.
            InvalidInput: An unknown kind.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def list_feature_definitions(
        self, kind: str, name: str | None = None
    ) -> list[FeatureDefinition]:
        """Every version of ``name`` (or of every entity or group), by name then version.

        Raises:
            InvalidInput: An unknown kind.
            BackendUnavailable: The database cannot be reached or failed.
        """

    # --- audit ----------------------------------------------------------------------------
    @abc.abstractmethod
    def record_event(
        self, action: str, object_type: str, object_id: str, *, actor: Actor, details: JSON
    ) -> AuditEvent:
        """Append an audit event for something that changed outside the catalog.

        Raises:
            InvalidInput: A value the catalog cannot store.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def list_events(self, limit: int = 100, object_type: str | None = None) -> list[AuditEvent]:
        """The newest audit events first, at most ``limit`` of them.

        Raises:
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def iter_events(self) -> Iterator[AuditEvent]:
        """Every audit event, oldest first, streamed (not held in memory at once).

        Raises:
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def verify_audit_chain(self) -> ChainReport:
        """Walk the audit trail's hash chain and report where it breaks (edited, deleted,
        reordered or cut-off events); see :mod:`shipyard.catalog._chain`.

        Raises:
            BackendUnavailable: The database cannot be reached or failed.
        """

    # --- tokens ---------------------------------------------------------------------------
    @abc.abstractmethod
    def create_token(
        self,
        token_id: str,
        *,
        name: str,
        role: str,
        env: str,
        secret_hash: str,
        expires_at: datetime | None,
        actor: Actor,
    ) -> ApiToken:
        """Store an API token's record (its secret's hash, never the secret) and audit it.

        Raises:
            AlreadyExists: A token has that name (or id) already.
            InvalidInput: A value the catalog cannot store.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def get_token(self, token_id: str) -> ApiToken:
        """The token with that id, revoked or expired ones included.

        Raises:
            NotFound: No token has that id (the message does not repeat the id).
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def list_tokens(self) -> list[ApiToken]:
        """Every token, oldest first; [] when none.

        Raises:
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def revoke_token(self, name: str, *, actor: Actor) -> ApiToken:
        """Revoke the token with that name (or id) from now on, and audit it.

        Raises:
            NotFound: No such token; the message suggests a close name.
            Conflict: The token is revoked already.
            BackendUnavailable: The database cannot be reached or failed.
        """

    # --- PII tags -------------------------------------------------------------------------
    @abc.abstractmethod
    def set_pii_tags(
        self,
        dataset: str,
        version: int,
        tags: Mapping[str, str],
        *,
        tagged: bool,
        source: str,
        actor: Actor,
        replace: bool = False,
    ) -> None:
        """Record ``{column: kind}`` as PII (``tagged``) or as not PII, for one version of
        ``dataset`` (version 0: a user's decision for every version), and audit it (column
        names only). ``replace`` drops that version's other tags first.

        Raises:
            InvalidInput: A value the catalog cannot store.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def get_pii_tags(self, dataset: str) -> list[dict[str, Any]]:
        """Every PII tag row of ``dataset`` (dataset, version, column, kind, tagged, source,
        updated_by, updated_at), by version then column; [] when none.

        Raises:
            BackendUnavailable: The database cannot be reached or failed.
        """

    def close(self) -> None:
        """Release connections. The instance may not be used afterwards."""
