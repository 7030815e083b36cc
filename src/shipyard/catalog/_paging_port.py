"""The catalog's listings, a page at a time: part of :class:`~shipyard.catalog.base.Catalog`'s
contract, which states the rules every method follows (thread safety, errors)."""

from __future__ import annotations

import abc

from shipyard.catalog.paging import ExperimentSummary, Page, PageQuery, ReportSummary
from shipyard.entities import (
    Alert,
    AuditEvent,
    DatasetVersion,
    Endpoint,
    FeatureDefinition,
    ModelVersion,
    Monitor,
    MonitorRun,
    PipelineDefinition,
    PipelineRun,
    Run,
)

__all__ = ["PagingPort"]


class PagingPort(abc.ABC):
    """Listings that never load a whole table: keyset pages behind an opaque cursor.

    Every ``page_*`` method reads at most ``query.limit`` items of one listing of
    :data:`~shipyard.catalog.paging.LISTINGS`, in the sort its query asks for (a total order:
    ties are broken by each row's unique key), starting after the row its cursor names. Paging
    through with each page's ``next_cursor`` yields every item once, none twice, even while
    rows are added. Each raises :class:`~shipyard.errors.InvalidInput` for an unknown sort or
    filter, a limit out of range, or a cursor that is malformed or belongs to another query,
    and :class:`~shipyard.errors.BackendUnavailable` when the database fails.
    """

    @abc.abstractmethod
    def page_datasets(self, query: PageQuery) -> Page[DatasetVersion]:
        """The latest version of each dataset (listing ``datasets``).

        Raises:
            InvalidInput: See :class:`PagingPort` (sort, filter, limit, cursor).
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def page_dataset_versions(self, query: PageQuery) -> Page[DatasetVersion]:
        """Dataset versions, of one dataset with the ``name`` filter (``dataset_versions``).

        Raises:
            InvalidInput: See :class:`PagingPort` (sort, filter, limit, cursor).
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def page_experiments(self, query: PageQuery) -> Page[ExperimentSummary]:
        """Each experiment with its count of runs and latest start (``experiments``).

        Raises:
            InvalidInput: See :class:`PagingPort` (sort, filter, limit, cursor).
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def page_runs(self, query: PageQuery) -> Page[Run]:
        """Runs (``runs``); ``metrics.<key>`` sorts put runs without that metric last.

        Raises:
            InvalidInput: See :class:`PagingPort` (sort, filter, limit, cursor).
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def page_models(self, query: PageQuery) -> Page[ModelVersion]:
        """The latest ready version of each model, with its aliases (``models``).

        Raises:
            InvalidInput: See :class:`PagingPort` (sort, filter, limit, cursor).
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def page_model_versions(self, query: PageQuery) -> Page[ModelVersion]:
        """Ready model versions with their aliases, pending and abandoned ones too with the
        ``include_pending`` filter (``model_versions``).

        Raises:
            InvalidInput: See :class:`PagingPort` (sort, filter, limit, cursor).
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def page_monitors(self, query: PageQuery) -> Page[Monitor]:
        """Monitors (``monitors``).

        Raises:
            InvalidInput: See :class:`PagingPort` (sort, filter, limit, cursor).
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def page_monitor_runs(self, query: PageQuery) -> Page[MonitorRun]:
        """Runs of monitors, of one with the ``monitor`` filter (``monitor_runs``).

        Raises:
            InvalidInput: See :class:`PagingPort` (sort, filter, limit, cursor).
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def page_alerts(self, query: PageQuery) -> Page[Alert]:
        """Alerts (``alerts``); the ``severity`` sort puts errors before warnings.

        Raises:
            InvalidInput: See :class:`PagingPort` (sort, filter, limit, cursor).
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def page_events(self, query: PageQuery) -> Page[AuditEvent]:
        """Audit events (``events``); ``action`` matches a prefix (``model.``), ``since``
        and ``until`` bound the time (``since`` included, ``until`` not).

        Raises:
            InvalidInput: See :class:`PagingPort` (sort, filter, limit, cursor).
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def page_feature_definitions(
        self, kind: str, query: PageQuery, *, latest: bool = False
    ) -> Page[FeatureDefinition]:
        """Versions of feature-store entities or groups (``kind``: ``entity`` or ``group``;
        listing ``feature_versions``), or with ``latest`` the newest version of each
        (``feature_entities`` or ``feature_groups``).

        Raises:
            InvalidInput: An unknown kind, or as every listing.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def page_pipeline_runs(self, query: PageQuery) -> Page[PipelineRun]:
        """Pipeline runs, newest first, of one pipeline with the ``pipeline`` filter
        (``pipeline_runs``).

        Raises:
            InvalidInput: See :class:`PagingPort` (sort, filter, limit, cursor).
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def page_pipelines(self, query: PageQuery) -> Page[PipelineDefinition]:
        """The latest version of each pipeline (``pipelines``).

        Raises:
            InvalidInput: See :class:`PagingPort` (sort, filter, limit, cursor).
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def page_endpoints(self, query: PageQuery) -> Page[Endpoint]:
        """Endpoints at their current revision, of one environment with the ``env`` filter
        (``endpoints``; the ``name`` sort breaks ties by environment).

        Raises:
            InvalidInput: See :class:`PagingPort` (sort, filter, limit, cursor).
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def list_reports(self, subject: str) -> list[ReportSummary]:
        """The reports stored about ``subject`` (without their payloads), by kind; [] when
        none.

        Raises:
            BackendUnavailable: The database cannot be reached or failed.
        """
