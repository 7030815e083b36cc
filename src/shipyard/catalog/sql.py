"""The catalog on a SQL database through SQLAlchemy: SQLite (embedded) or PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from shipyard.catalog import _chain, _migrate
from shipyard.catalog._approvals import ApprovalsMixin
from shipyard.catalog._endpoints import EndpointsMixin
from shipyard.catalog._engine import make_engine, redact
from shipyard.catalog._errors import WriteRace, translate
from shipyard.catalog._features import FeaturesMixin
from shipyard.catalog._monitors import MonitorsMixin
from shipyard.catalog._paging import PagingMixin
from shipyard.catalog._pipelines import PipelinesMixin
from shipyard.catalog._rows import (
    dataset_from_row,
    event_from_row,
    model_from_row,
    utc,
)
from shipyard.catalog._runs import RunsMixin
from shipyard.catalog._security import SecurityMixin
from shipyard.catalog._tables import (
    audit_events,
    dataset_versions,
    model_aliases,
    model_versions,
    reports,
)
from shipyard.catalog.base import Catalog
from shipyard.entities import (
    APPROVAL_STATUSES,
    Actor,
    AuditEvent,
    ColumnSchema,
    DatasetVersion,
    ModelVersion,
    Report,
)
from shipyard.errors import Conflict, NotFound, did_you_mean
from shipyard.types import JSON

__all__ = ["SqlCatalog"]

T = TypeVar("T")
_RACE_RETRIES = 8
_PENDING, _READY = "pending", "ready"
_AUDIT_QUEUE = "shipyard_audit_queue"


def _now() -> datetime:
    return datetime.now(UTC)


class SqlCatalog(
    SecurityMixin,
    RunsMixin,
    FeaturesMixin,
    MonitorsMixin,
    ApprovalsMixin,
    EndpointsMixin,
    PipelinesMixin,
    PagingMixin,
    Catalog,
):
    """A :class:`Catalog` on SQLite (WAL, one file) or PostgreSQL.

    Args:
        url: ``sqlite:///path/catalog.db`` or ``postgresql://user@host:port/db``.
        connect_args: Extra arguments for the database driver.
    """

    def __init__(self, url: str, *, connect_args: dict[str, Any] | None = None) -> None:
        self.url = url
        self._engine = make_engine(url, connect_args or {})
        self._where = redact(url)
        try:
            _migrate.upgrade(self._engine)
        except sa_exc.SQLAlchemyError as exc:
            self._engine.dispose()
            raise translate(exc, self._where) from exc

    # --- plumbing -------------------------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[Connection]:
        try:
            with (
                self._engine.connect().execution_options(shipyard_write=True) as conn,
                conn.begin(),
            ):
                # Writers queue on the audit chain's head (SQLite's BEGIN IMMEDIATE does the
                # same): the chain cannot fork, and no lock is ever taken before this one.
                _chain.lock_head(conn)
                conn.info[_AUDIT_QUEUE] = []
                yield conn
                _chain.append(conn, conn.info.pop(_AUDIT_QUEUE))
        except sa_exc.SQLAlchemyError as exc:
            raise translate(exc, self._where) from exc

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self._engine.connect() as conn:
                yield conn
        except sa_exc.SQLAlchemyError as exc:
            raise translate(exc, self._where) from exc

    def _retrying(self, attempt: Callable[[Connection], T]) -> T:
        """Run a write that allocates a version number or an alias, again when a concurrent
        writer took it first (:data:`~shipyard.catalog._errors.RACES`); any other integrity
        error is raised at once."""
        for _ in range(_RACE_RETRIES):
            try:
                with self._write() as conn:
                    return attempt(conn)
            except WriteRace:
                continue
        raise Conflict(
            f"{_RACE_RETRIES} concurrent writers in a row took the version number or alias "
            "this write needed. Nothing was written; try again."
        )

    @staticmethod
    def _audit(
        conn: Connection,
        actor: Actor,
        action: str,
        object_type: str,
        object_id: str,
        details: JSON | None = None,
    ) -> None:
        """Queue an audit event; :meth:`_write` chains the queue onto the trail at commit."""
        event = {
            "at": _now(),
            "actor": actor.name,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "face": actor.face,
            "address": actor.address,
            "details": details or {},
        }
        queue = conn.info.get(_AUDIT_QUEUE)
        if queue is None:  # not inside _write: chain it now, in the caller's transaction
            _chain.append(conn, [event])
        else:
            queue.append(event)

    # --- datasets -------------------------------------------------------------------------
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
        def attempt(conn: Connection) -> DatasetVersion:
            row = {
                "name": name,
                "version": _next_version(conn, dataset_versions, name),
                "fingerprint": fingerprint,
                "columns": [{"name": c.name, "type": c.type} for c in columns],
                "num_rows": num_rows,
                "num_bytes": num_bytes,
                "source": source,
                "location": location,
                "created_by": actor.name,
                "created_at": _now(),
            }
            conn.execute(dataset_versions.insert().values(**row))
            version = dataset_from_row(row)
            self._audit(
                conn,
                actor,
                "dataset.create",
                "dataset",
                version.ref,
                {"rows": num_rows, "source": source},
            )
            return version

        return self._retrying(attempt)

    def get_dataset_version(self, name: str, version: int | None = None) -> DatasetVersion:
        query = sa.select(dataset_versions).where(dataset_versions.c.name == name)
        if version is None:
            query = query.order_by(dataset_versions.c.version.desc()).limit(1)
        else:
            query = query.where(dataset_versions.c.version == version)
        with self._read() as conn:
            row = conn.execute(query).mappings().first()
            if row is not None:
                return dataset_from_row(row)
            names = conn.execute(sa.select(dataset_versions.c.name).distinct()).scalars().all()
            if name in names:
                known = conn.execute(
                    sa.select(dataset_versions.c.version).where(dataset_versions.c.name == name)
                ).scalars()
                raise NotFound(
                    f"Dataset '{name}' has no version {version}. "
                    f"Its versions: {', '.join(str(v) for v in sorted(known))}."
                )
        raise NotFound(
            f"No dataset named '{name}'.{did_you_mean(name, names)} See `shipyard datasets list`.",
            details={"name": name},
        )

    def list_dataset_versions(self, name: str | None = None) -> list[DatasetVersion]:
        query = sa.select(dataset_versions).order_by(
            dataset_versions.c.name, dataset_versions.c.version
        )
        if name is not None:
            query = query.where(dataset_versions.c.name == name)
        with self._read() as conn:
            return [dataset_from_row(r) for r in conn.execute(query).mappings()]

    # --- models ---------------------------------------------------------------------------
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
        def attempt(conn: Connection) -> ModelVersion:
            row = {
                "name": name,
                "version": _next_version(conn, model_versions, name),
                "run_id": run_id,
                "bundle_uri": bundle_uri,
                "problem_type": problem_type,
                "signature": signature,
                "metrics": metrics,
                "lineage": lineage,
                "created_by": actor.name,
                "created_at": _now(),
                "status": _PENDING if pending else _READY,
                "approval": APPROVAL_STATUSES[0],
            }
            conn.execute(model_versions.insert().values(**row))
            version = model_from_row(row, ())
            details = {"run": run_id, "status": row["status"]}
            self._audit(conn, actor, "model.register", "model", version.ref, details)
            return version

        return self._retrying(attempt)

    def publish_model_version(
        self,
        name: str,
        version: int,
        *,
        run_metrics: JSON | None = None,
        run_outputs: JSON | None = None,
        actor: Actor,
    ) -> ModelVersion:
        key = (model_versions.c.name == name) & (model_versions.c.version == version)
        with self._write() as conn:
            row = conn.execute(sa.select(model_versions).where(key)).mappings().first()
            if row is None:
                self._raise_model_not_found(conn, name, f"version {version}")
            if row["status"] != _PENDING:
                raise Conflict(
                    f"Model version {name}:{version} cannot be published: it is "
                    f"{row['status']} already. Nothing was written."
                )
            if row["run_id"] is not None:
                run = self._run_row(conn, row["run_id"])
                if run["status"] != "running":
                    raise Conflict(
                        f"Model version {name}:{version} cannot be published: its run "
                        f"{run['id'][:12]} is {run['status']} ({run['error'] or 'no error'}). "
                        "Nothing was written; train again."
                    )
                self._finish_in(conn, run, "finished", run_metrics, run_outputs)
                self._audit(conn, actor, "run.finished", "run", run["id"])
            conn.execute(model_versions.update().where(key).values(status=_READY))
            self._audit(conn, actor, "model.publish", "model", f"{name}:{version}")
            return model_from_row({**row, "status": _READY}, ())

    def get_model_version(self, name: str, version: int | None = None) -> ModelVersion:
        query = sa.select(model_versions).where(model_versions.c.name == name)
        if version is None:
            query = query.where(model_versions.c.status == _READY)
            query = query.order_by(model_versions.c.version.desc()).limit(1)
        else:
            query = query.where(model_versions.c.version == version)
        with self._read() as conn:
            row = conn.execute(query).mappings().first()
            if row is None or row["status"] != _READY:
                self._raise_model_not_found(conn, name, f"version {version}", row)
            return model_from_row(row, self._aliases_of(conn, name, row["version"]))

    def list_model_versions(
        self, name: str | None = None, *, include_pending: bool = False
    ) -> list[ModelVersion]:
        query = sa.select(model_versions).order_by(model_versions.c.name, model_versions.c.version)
        if not include_pending:
            query = query.where(model_versions.c.status == _READY)
        if name is not None:
            query = query.where(model_versions.c.name == name)
        with self._read() as conn:
            alias_rows = conn.execute(sa.select(model_aliases)).mappings().all()
            by_version: dict[tuple[str, int], list[str]] = {}
            for a in alias_rows:
                by_version.setdefault((a["name"], a["version"]), []).append(a["alias"])
            return [
                model_from_row(r, tuple(sorted(by_version.get((r["name"], r["version"]), []))))
                for r in conn.execute(query).mappings()
            ]

    def set_alias(self, name: str, alias: str, version: int, *, actor: Actor) -> ModelVersion:
        return self._retrying(lambda conn: self._point_alias(conn, name, alias, version, actor))

    def _point_alias(
        self, conn: Connection, name: str, alias: str, version: int, actor: Actor
    ) -> ModelVersion:
        """Point ``name@alias`` at a ready ``version`` in ``conn``'s transaction, audited."""
        row = (
            conn.execute(
                sa.select(model_versions).where(
                    model_versions.c.name == name, model_versions.c.version == version
                )
            )
            .mappings()
            .first()
        )
        if row is None or row["status"] != _READY:
            self._raise_model_not_found(conn, name, f"version {version}", row)
        previous = conn.execute(
            sa.select(model_aliases.c.version).where(
                model_aliases.c.name == name, model_aliases.c.alias == alias
            )
        ).scalar()
        values = {"version": version, "updated_by": actor.name, "updated_at": _now()}
        if previous is None:  # two writers may both get here; the primary key picks one
            conn.execute(model_aliases.insert().values(name=name, alias=alias, **values))
        else:
            conn.execute(
                model_aliases.update()
                .where(model_aliases.c.name == name, model_aliases.c.alias == alias)
                .values(**values)
            )
        self._audit(
            conn,
            actor,
            "model.alias",
            "model",
            f"{name}:{version}",
            {"alias": alias, "previous_version": previous},
        )
        return model_from_row(row, self._aliases_of(conn, name, version))

    def resolve_alias(self, name: str, alias: str) -> ModelVersion:
        with self._read() as conn:
            version = conn.execute(
                sa.select(model_aliases.c.version).where(
                    model_aliases.c.name == name, model_aliases.c.alias == alias
                )
            ).scalar()
            if version is None:
                exists = conn.execute(
                    sa.select(model_versions.c.id)
                    .where(model_versions.c.name == name, model_versions.c.status == _READY)
                    .limit(1)
                ).first()
                if exists is None:
                    self._raise_model_not_found(conn, name, "")
                aliases = (
                    conn.execute(
                        sa.select(model_aliases.c.alias).where(model_aliases.c.name == name)
                    )
                    .scalars()
                    .all()
                )
                have = ", ".join(sorted(aliases)) or "none yet"
                raise NotFound(
                    f"Model '{name}' has no alias '{alias}'. Its aliases: {have}. "
                    f"Set one with `shipyard models promote {name}:VERSION --to {alias}`.",
                    details={"model": name, "alias": alias},
                )
        return self.get_model_version(name, version)

    @staticmethod
    def _aliases_of(conn: Connection, name: str, version: int) -> tuple[str, ...]:
        rows = conn.execute(
            sa.select(model_aliases.c.alias).where(
                model_aliases.c.name == name, model_aliases.c.version == version
            )
        ).scalars()
        return tuple(sorted(rows))

    @staticmethod
    def _raise_model_not_found(
        conn: Connection, name: str, what: str, pending: Any = None
    ) -> NoReturn:
        if pending is not None:
            ref, run = f"{name}:{pending['version']}", str(pending["run_id"])[:12]
            why = (
                f"is pending: the job that registered it (run {run}) has not finished "
                "writing its evaluation yet. Wait for the job, or use"
                if pending["status"] == _PENDING
                else f"was abandoned: the job that registered it (run {run}) failed or died "
                "before publishing it, so it can never be used. Train again, or use"
            )
            raise NotFound(
                f"Model version {ref} {why} a ready version (`shipyard models list`).",
                details={"model": name, "version": pending["version"], "status": pending["status"]},
            )
        query = sa.select(model_versions.c.name).where(model_versions.c.status == _READY)
        names = conn.execute(query.distinct()).scalars().all()
        if name in names:
            raise NotFound(f"Model '{name}' has no {what}. See `shipyard models show {name}`.")
        raise NotFound(
            f"No model named '{name}'.{did_you_mean(name, names)} See `shipyard models list`.",
            details={"model": name},
        )

    # --- reports --------------------------------------------------------------------------
    def put_report(
        self, subject: str, kind: str, payload: JSON, *, html_uri: str | None, actor: Actor
    ) -> Report:
        row: dict[str, Any] = {
            "subject": subject,
            "kind": kind,
            "payload": payload,
            "html_uri": html_uri,
            "created_by": actor.name,
            "created_at": _now(),
        }
        key = (reports.c.subject == subject) & (reports.c.kind == kind)
        with self._write() as conn:
            conn.execute(reports.delete().where(key))
            conn.execute(reports.insert().values(**row))
            self._audit(conn, actor, "report.put", "report", f"{kind}:{subject}")
        return Report(**row)

    def get_report(self, subject: str, kind: str) -> Report:
        key = (reports.c.subject == subject) & (reports.c.kind == kind)
        with self._read() as conn:
            row = conn.execute(sa.select(reports).where(key)).mappings().first()
        if row is None:
            raise NotFound(f"No {kind} report for '{subject}'.")
        return Report(**{**row, "created_at": utc(row["created_at"])})

    # --- audit ----------------------------------------------------------------------------
    def record_event(
        self, action: str, object_type: str, object_id: str, *, actor: Actor, details: JSON
    ) -> AuditEvent:
        with self._write() as conn:
            self._audit(conn, actor, action, object_type, object_id, details)
            (event_id,) = _chain.append(conn, conn.info[_AUDIT_QUEUE])
            conn.info[_AUDIT_QUEUE] = []
            row = (
                conn.execute(sa.select(audit_events).where(audit_events.c.id == event_id))
                .mappings()
                .one()
            )
        return event_from_row(row)

    def list_events(self, limit: int = 100, object_type: str | None = None) -> list[AuditEvent]:
        query = sa.select(audit_events).order_by(audit_events.c.id.desc()).limit(limit)
        if object_type is not None:
            query = query.where(audit_events.c.object_type == object_type)
        with self._read() as conn:
            return [event_from_row(r) for r in conn.execute(query).mappings()]

    def close(self) -> None:
        self._engine.dispose()


def _next_version(conn: Connection, table: sa.Table, name: str) -> int:
    # Racing writers may compute the same number; the unique constraint makes one retry.
    current = conn.execute(
        sa.select(sa.func.max(table.c.version)).where(table.c.name == name)
    ).scalar()
    return int(current or 0) + 1
