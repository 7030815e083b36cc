"""The SQL catalog's listings, one page at a time (see :mod:`shipyard.catalog.paging`).

Each listing is a :class:`~shipyard.catalog._keyset.Spec`: a select, its sort keys (each
ending in a unique column), its filters, and how rows become entities. Sorts on indexed
columns seek (migration 0011 indexes runs by start time); a ``metrics.<key>`` sort reads the
metric out of each run's JSON, so it scans the runs its filters leave.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from shipyard.catalog._endpoints import _COLUMNS as ENDPOINT_COLUMNS
from shipyard.catalog._endpoints import _endpoint as endpoint_from_row
from shipyard.catalog._features import _from_row as feature_from_row
from shipyard.catalog._keyset import Key, Spec, read_page
from shipyard.catalog._monitors import _alert, _monitor, _run
from shipyard.catalog._pipelines import _definition as pipeline_from_row
from shipyard.catalog._pipelines import _run as pipeline_run_from_row
from shipyard.catalog._rows import (
    dataset_from_row,
    event_from_row,
    model_from_row,
    run_from_row,
    utc,
)
from shipyard.catalog._tables import (
    alerts,
    audit_events,
    dataset_versions,
    endpoint_revisions,
    endpoints,
    feature_entities,
    feature_groups,
    model_aliases,
    model_versions,
    monitor_runs,
    monitors,
    pipeline_runs,
    pipelines,
    reports,
    runs,
)
from shipyard.catalog.paging import (
    ExperimentSummary,
    Page,
    PageQuery,
    ReportSummary,
    ResolvedQuery,
)
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
from shipyard.errors import InvalidInput

_READY = "ready"
_FEATURE_TABLES = {"entity": feature_entities, "group": feature_groups}


def _equals(column: Any) -> Callable[[Any], ColumnElement[bool]]:
    return lambda value: column == str(value)


def _prefix(column: Any) -> Callable[[Any], ColumnElement[bool]]:
    return lambda value: column.startswith(str(value), autoescape=True)


def _latest(table: sa.Table, *, ready: bool = False) -> sa.Select[Any]:
    """Each name's row with the highest version (of the ready ones, with ``ready``)."""
    newer = table.alias("newer")
    newest = sa.select(sa.func.max(newer.c.version)).where(newer.c.name == table.c.name)
    where = []
    if ready:
        newest = newest.where(newer.c.status == _READY)
        where.append(table.c.status == _READY)
    return sa.select(table).where(table.c.version == newest.scalar_subquery(), *where)


def _with_aliases(conn: Any, rows: list[Any]) -> list[ModelVersion]:
    """Model versions of ``rows`` with their aliases, read for this page's models only."""
    names = sorted({r["name"] for r in rows})
    by_version: dict[tuple[str, int], list[str]] = {}
    if names:
        found = conn.execute(sa.select(model_aliases).where(model_aliases.c.name.in_(names)))
        for a in found.mappings():
            by_version.setdefault((a["name"], a["version"]), []).append(a["alias"])
    return [
        model_from_row(r, tuple(sorted(by_version.get((r["name"], r["version"]), []))))
        for r in rows
    ]


def _by_version(table: sa.Table) -> dict[str, list[Key]]:
    return {
        "version": [Key(table.c.version, "int"), Key(table.c.id, "int")],
        "created_at": [Key(table.c.created_at, "time"), Key(table.c.id, "int")],
    }


def _by_name(table: sa.Table) -> dict[str, list[Key]]:
    return {
        "name": [Key(table.c.name, "str")],
        "created_at": [Key(table.c.created_at, "time"), Key(table.c.id, "int")],
    }


def _datasets(latest: bool) -> Spec:
    t = dataset_versions
    sorts = {**_by_name(t), "num_rows": [Key(t.c.num_rows, "int"), Key(t.c.id, "int")]}
    if not latest:
        sorts.update(_by_version(t))
    return Spec(
        _latest(t) if latest else sa.select(t),
        sorts,
        {"prefix": _prefix(t.c.name), "name": _equals(t.c.name)},
        lambda conn, rows: [dataset_from_row(r) for r in rows],
    )


def _run_tag(key: str) -> Callable[[Any], ColumnElement[bool]]:
    return lambda value: runs.c.tags[key].as_string() == str(value)


def _runs() -> Spec:
    t = runs
    return Spec(
        sa.select(t),
        {
            name: [Key(t.c[name], "time" if name == "started_at" else "str"), Key(t.c.id, "str")]
            for name in ("started_at", "name", "experiment", "status")
        },
        {
            "experiment": _equals(t.c.experiment),
            "status": _equals(t.c.status),
            "created_by": _equals(t.c.created_by),
            "kind": _run_tag("kind"),
            "parent": _run_tag("parent_run"),
        },
        lambda conn, rows: [run_from_row(r) for r in rows],
    )


def _metric_keys(dialect: str, metric: str) -> list[Key]:
    """Sort runs by a final metric, runs without it (or with a non-number) last."""
    if dialect == "postgresql":
        is_number = sa.func.json_typeof(runs.c.metrics.op("->")(metric)) == "number"
        raw: Any = sa.cast(runs.c.metrics.op("->>")(metric), sa.Float)
    else:
        path = '$."' + metric + '"'
        is_number = sa.func.json_type(runs.c.metrics, path).in_(("integer", "real"))
        raw = sa.cast(sa.func.json_extract(runs.c.metrics, path), sa.Float)
    value = sa.case((is_number, raw), else_=sa.null())
    missing = sa.case((value.is_(None), 1), else_=0)
    return [
        Key(missing, "int", fixed=True),
        Key(sa.func.coalesce(value, 0.0), "float"),
        Key(runs.c.id, "str"),
    ]


def _experiments() -> Spec:
    t = runs
    select = sa.select(
        t.c.experiment.label("name"),
        sa.func.count().label("runs"),
        sa.func.max(t.c.started_at).label("last_started_at"),
    ).group_by(t.c.experiment)

    def convert(conn: Any, rows: list[Any]) -> list[ExperimentSummary]:
        return [
            ExperimentSummary(r["name"], int(r["runs"]), utc(r["last_started_at"]))  # type: ignore[arg-type]
            for r in rows
        ]

    return Spec(
        select,
        {"name": [Key(t.c.experiment, "str")]},
        {"prefix": _prefix(t.c.experiment)},
        convert,
    )


def _models(latest: bool, include_pending: bool = False) -> Spec:
    t = model_versions
    if latest:
        select = _latest(t, ready=True)
    elif include_pending:
        select = sa.select(t)
    else:
        select = sa.select(t).where(t.c.status == _READY)

    def alias(value: Any) -> ColumnElement[bool]:
        a = model_aliases
        return sa.exists().where(
            a.c.name == t.c.name, a.c.version == t.c.version, a.c.alias == str(value)
        )

    return Spec(
        select,
        {**_by_name(t), **({} if latest else _by_version(t))},
        {
            "prefix": _prefix(t.c.name),
            "name": _equals(t.c.name),
            "alias": alias,
            "include_pending": lambda value: sa.true(),
        },
        _with_aliases,
    )


def _monitors() -> Spec:
    t = monitors
    return Spec(
        sa.select(t),
        {
            "name": [Key(t.c.name, "str")],
            "created_at": [Key(t.c.created_at, "time"), Key(t.c.name, "str")],
        },
        {"model": _equals(t.c.model)},
        lambda conn, rows: [_monitor(r) for r in rows],
    )


def _monitor_runs() -> Spec:
    t = monitor_runs
    return Spec(
        sa.select(t),
        {
            "window_start": [Key(t.c.window_start, "time"), Key(t.c.id, "int")],
            "created_at": [Key(t.c.created_at, "time"), Key(t.c.id, "int")],
        },
        {"monitor": _equals(t.c.monitor), "status": _equals(t.c.status)},
        lambda conn, rows: [_run(r) for r in rows],
    )


def _alerts() -> Spec:
    t = alerts
    rank = sa.case({"error": 0, "warning": 1}, value=t.c.severity, else_=2)
    return Spec(
        sa.select(t),
        {
            "created_at": [Key(t.c.created_at, "time"), Key(t.c.id, "int")],
            "severity": [Key(rank, "int"), Key(t.c.id, "int")],
        },
        {name: _equals(t.c[name]) for name in ("monitor", "status", "severity", "kind")},
        lambda conn, rows: [_alert(r) for r in rows],
    )


def _events() -> Spec:
    t = audit_events
    return Spec(
        sa.select(t),
        {"id": [Key(t.c.id, "int")]},
        {
            **{name: _equals(t.c[name]) for name in ("actor", "object_type", "object_id", "face")},
            "action": _prefix(t.c.action),
            "since": lambda value: t.c.at >= value,
            "until": lambda value: t.c.at < value,
        },
        lambda conn, rows: [event_from_row(r) for r in rows],
    )


def _pipeline_runs() -> Spec:
    t = pipeline_runs
    return Spec(
        sa.select(t),
        {"started_at": [Key(t.c.started_at, "time"), Key(t.c.id, "str")]},
        {"pipeline": _equals(t.c.pipeline), "status": _equals(t.c.status)},
        lambda conn, rows: [pipeline_run_from_row(r) for r in rows],
    )


def _pipelines() -> Spec:
    t = pipelines
    return Spec(
        _latest(t),
        _by_name(t),
        {"prefix": _prefix(t.c.name)},
        lambda conn, rows: [pipeline_from_row(r) for r in rows],
    )


def _endpoints() -> Spec:
    t, r = endpoints, endpoint_revisions
    on = (r.c.env == t.c.env) & (r.c.name == t.c.name) & (r.c.revision == t.c.revision)
    return Spec(
        sa.select(*ENDPOINT_COLUMNS).select_from(t.join(r, on)),
        {
            "name": [Key(t.c.name, "str"), Key(t.c.env, "str")],
            "created_at": [Key(t.c.created_at, "time"), Key(t.c.env, "str"), Key(t.c.name, "str")],
        },
        {"env": _equals(t.c.env), "prefix": _prefix(t.c.name)},
        lambda conn, rows: [endpoint_from_row(row) for row in rows],
    )


def _features(kind: str, latest: bool) -> Spec:
    t = _FEATURE_TABLES[kind]
    return Spec(
        _latest(t) if latest else sa.select(t),
        {**_by_name(t), **({} if latest else _by_version(t))},
        {"prefix": _prefix(t.c.name), "name": _equals(t.c.name), "kind": lambda v: sa.true()},
        lambda conn, rows: [feature_from_row(kind, r) for r in rows],
    )


class PagingMixin:
    """Listing methods of :class:`~shipyard.catalog.sql.SqlCatalog` (see ``PagingPort``)."""

    _read: Any
    _engine: Any

    def _page(self, spec: Spec, query: ResolvedQuery, keys: list[Key] | None = None) -> Any:
        with self._read() as conn:
            return read_page(conn, spec, query, keys)

    def page_datasets(self, query: PageQuery) -> Page[DatasetVersion]:
        page: Page[DatasetVersion] = self._page(_datasets(True), query.resolved("datasets"))
        return page

    def page_dataset_versions(self, query: PageQuery) -> Page[DatasetVersion]:
        page: Page[DatasetVersion] = self._page(
            _datasets(False), query.resolved("dataset_versions")
        )
        return page

    def page_experiments(self, query: PageQuery) -> Page[ExperimentSummary]:
        page: Page[ExperimentSummary] = self._page(_experiments(), query.resolved("experiments"))
        return page

    def page_runs(self, query: PageQuery) -> Page[Run]:
        resolved = query.resolved("runs")
        metric = resolved.metric
        keys = _metric_keys(self._engine.dialect.name, metric) if metric else None
        page: Page[Run] = self._page(_runs(), resolved, keys)
        return page

    def page_models(self, query: PageQuery) -> Page[ModelVersion]:
        page: Page[ModelVersion] = self._page(_models(True), query.resolved("models"))
        return page

    def page_model_versions(self, query: PageQuery) -> Page[ModelVersion]:
        resolved = query.resolved("model_versions")
        pending = bool(resolved.filters.get("include_pending"))
        page: Page[ModelVersion] = self._page(_models(False, pending), resolved)
        return page

    def page_monitors(self, query: PageQuery) -> Page[Monitor]:
        page: Page[Monitor] = self._page(_monitors(), query.resolved("monitors"))
        return page

    def page_monitor_runs(self, query: PageQuery) -> Page[MonitorRun]:
        page: Page[MonitorRun] = self._page(_monitor_runs(), query.resolved("monitor_runs"))
        return page

    def page_alerts(self, query: PageQuery) -> Page[Alert]:
        page: Page[Alert] = self._page(_alerts(), query.resolved("alerts"))
        return page

    def page_events(self, query: PageQuery) -> Page[AuditEvent]:
        page: Page[AuditEvent] = self._page(_events(), query.resolved("events"))
        return page

    def page_feature_definitions(
        self, kind: str, query: PageQuery, *, latest: bool = False
    ) -> Page[FeatureDefinition]:
        if kind not in _FEATURE_TABLES:
            raise InvalidInput(
                f"The kind of a feature definition must be 'entity' or 'group'. Got {kind!r} "
                "instead."
            )
        listing = ("feature_groups" if kind == "group" else "feature_entities") if latest else None
        resolved = query.resolved(listing or "feature_versions")
        page: Page[FeatureDefinition] = self._page(_features(kind, latest), resolved)
        return page

    def page_pipeline_runs(self, query: PageQuery) -> Page[PipelineRun]:
        page: Page[PipelineRun] = self._page(_pipeline_runs(), query.resolved("pipeline_runs"))
        return page

    def page_pipelines(self, query: PageQuery) -> Page[PipelineDefinition]:
        page: Page[PipelineDefinition] = self._page(_pipelines(), query.resolved("pipelines"))
        return page

    def page_endpoints(self, query: PageQuery) -> Page[Endpoint]:
        page: Page[Endpoint] = self._page(_endpoints(), query.resolved("endpoints"))
        return page

    def list_reports(self, subject: str) -> list[ReportSummary]:
        columns = [reports.c[c] for c in ("subject", "kind", "html_uri", "created_by")]
        query = (
            sa.select(*columns, reports.c.created_at)
            .where(reports.c.subject == subject)
            .order_by(reports.c.kind)
        )
        with self._read() as conn:
            return [
                ReportSummary(**{**r, "created_at": utc(r["created_at"])})
                for r in conn.execute(query).mappings()
            ]
