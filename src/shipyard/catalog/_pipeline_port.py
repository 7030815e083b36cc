"""The catalog's pipeline methods: part of :class:`~shipyard.catalog.base.Catalog`'s contract,
which states the rules every method follows (thread safety, one transaction, audit, errors)."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from datetime import datetime

from shipyard.entities import Actor, PipelineDefinition, PipelineRun, PipelineStep, Schedule
from shipyard.types import JSON

__all__ = ["STEP_STATUSES", "PipelinePort"]

STEP_STATUSES = ("pending", "running", "finished", "cached", "skipped", "failed", "cancelled")
"""What a pipeline step can be; the last five are final."""


class PipelinePort(abc.ABC):
    """Pipeline definitions, their runs and steps, the lineage of what steps made, schedules."""

    # --- definitions ----------------------------------------------------------------------
    @abc.abstractmethod
    def register_pipeline(
        self, name: str, *, definition: JSON, source: str | None, actor: Actor
    ) -> PipelineDefinition:
        """Store ``definition`` as the next version of pipeline ``name`` when it differs from
        the latest version's (``changed`` true), else return the latest (``changed`` false).
        A new version writes a ``pipeline.register`` audit event.

        Raises:
            InvalidInput: The definition is not plain JSON, or a value the catalog cannot store.
            Conflict: Concurrent writers kept taking the next version number; nothing was
                written, and trying again is safe.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def get_pipeline(self, name: str, version: int | None = None) -> PipelineDefinition:
        """The given version of pipeline ``name`` (its latest when None).

        Raises:
            NotFound: No such pipeline or version; the message suggests a close name.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def list_pipelines(self) -> list[PipelineDefinition]:
        """The latest version of every pipeline, by name; [] when none.

        Raises:
            BackendUnavailable: The database cannot be reached or failed.
        """

    # --- runs -----------------------------------------------------------------------------
    @abc.abstractmethod
    def create_pipeline_run(
        self,
        pipeline: str,
        *,
        version: int,
        params: JSON,
        steps: Sequence[str],
        trigger: str,
        resumed_from: str | None,
        actor: Actor,
    ) -> PipelineRun:
        """Start a run of ``pipeline:version`` (status ``running``, recording this process's
        host and pid and a first heartbeat) with one ``pending`` row per step, in order.

        Raises:
            NotFound: No such pipeline version.
            InvalidInput: A value the catalog cannot store, or a step named twice.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def update_pipeline_step(
        self,
        run_id: str,
        step: str,
        *,
        status: str,
        attempts: int | None = None,
        cache_key: str | None = None,
        inputs: JSON | None = None,
        outputs: JSON | None = None,
        logs: str | None = None,
        error: str | None = None,
        cached_from: str | None = None,
        started_at: datetime | None = None,
        ended_at: datetime | None = None,
        lineage: Sequence[tuple[str, str]] = (),
        actor: Actor,
    ) -> PipelineStep:
        """Set a step's status and the fields given (None leaves a field as it is). The
        ``(kind, ref)`` pairs of ``lineage`` (``dataset``/``model`` and a version ref) are
        recorded as made by this run's step, in the same transaction. A step reaching a
        final status writes a ``pipeline.step`` audit event.

        Raises:
            NotFound: No such run, or the run has no such step.
            InvalidInput: An unknown status (the message lists them).
            Conflict: The run is no longer running (a dead run already marked failed).
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def finish_pipeline_run(
        self, run_id: str, *, status: str, error: str | None = None, actor: Actor
    ) -> PipelineRun:
        """End a run as ``finished`` or ``failed``. Failing it also ends, in the same
        transaction, its ``running`` steps as ``failed`` (with ``error``) and its ``pending``
        ones as ``cancelled``.

        Raises:
            NotFound: No run has that id (or unique prefix).
            InvalidInput: ``status`` is neither finished nor failed, or the prefix is ambiguous.
            Conflict: The run has ended already (the message says how).
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def get_pipeline_run(self, run_id: str) -> PipelineRun:
        """The run with that id (a unique prefix of at least 6 characters also works).

        Raises:
            NotFound: No run has that id (or unique prefix).
            InvalidInput: The prefix matches several runs.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def list_pipeline_runs(
        self, pipeline: str | None = None, *, status: str | None = None, limit: int = 100
    ) -> list[PipelineRun]:
        """Runs, newest first, of one pipeline or all, of one status or all; [] when none.

        Raises:
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def list_pipeline_steps(self, run_id: str) -> list[PipelineStep]:
        """The steps of a run, in the pipeline's order.

        Raises:
            NotFound: No run has that id (or unique prefix).
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def find_cached_step(
        self, cache_key: str, *, not_before: datetime | None = None
    ) -> PipelineStep | None:
        """The latest step that ran to ``finished`` with this cache key (ended at or after
        ``not_before`` when given), whose outputs a step with the same key may reuse; None
        when there is none.

        Raises:
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def heartbeat_pipeline_runs(self, host: str, pid: int) -> int:
        """Mark every running pipeline run of that process alive now; returns how many.

        Raises:
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def pipeline_lineage(self, ref: str) -> list[tuple[str, str]]:
        """The ``(run id, step)`` pairs that made the dataset or model version ``ref``,
        oldest first; [] when no pipeline made it.

        Raises:
            BackendUnavailable: The database cannot be reached or failed.
        """

    # --- schedules ------------------------------------------------------------------------
    @abc.abstractmethod
    def set_schedule(
        self,
        pipeline: str,
        *,
        cron: str,
        params: JSON,
        missed: str,
        next_run_at: datetime,
        actor: Actor,
    ) -> Schedule:
        """Create or replace the schedule of ``pipeline`` (audited ``schedule.set``).

        Raises:
            NotFound: No pipeline has that name.
            InvalidInput: A value the catalog cannot store.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def list_schedules(self) -> list[Schedule]:
        """Every schedule, by pipeline name; [] when none.

        Raises:
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def delete_schedule(self, pipeline: str, *, actor: Actor) -> Schedule:
        """Remove the schedule of ``pipeline`` (audited ``schedule.delete``); returns it.

        Raises:
            NotFound: The pipeline has no schedule.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def claim_schedule(
        self, pipeline: str, *, due: datetime, next_run_at: datetime, actor: Actor
    ) -> Schedule | None:
        """Take the run due at ``due``: move the schedule's next run to ``next_run_at`` if it
        still says ``due``, and return the updated schedule; None when another scheduler
        took it first (or the schedule is gone). Audited ``schedule.fire``.

        Raises:
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def record_schedule_run(self, pipeline: str, run_id: str, at: datetime) -> None:
        """Note the run a schedule started last (nothing happens if the schedule is gone).

        Raises:
            BackendUnavailable: The database cannot be reached or failed.
        """
