"""The catalog on a SQL database through SQLAlchemy: SQLite (embedded) or PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from shipyard.catalog import _migrate
from shipyard.catalog._tables import (
    audit_events,
    dataset_versions,
    model_aliases,
    model_versions,
    reports,
    run_metrics,
    runs,
)
from shipyard.catalog.base import Catalog
from shipyard.entities import (
    Actor,
    AuditEvent,
    ColumnSchema,
    DatasetVersion,
    ModelVersion,
    Report,
    Run,
)
from shipyard.errors import (
    BackendUnavailable,
    InvalidInput,
    NotFound,
    did_you_mean,
)
from shipyard.types import JSON

__all__ = ["SqlCatalog"]

T = TypeVar("T")
_VERSION_RETRIES = 8


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime | None) -> datetime | None:
    # SQLite hands timestamps back without their zone; they were written in UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


class SqlCatalog(Catalog):
    """A :class:`Catalog` on SQLite (WAL, one file) or PostgreSQL.

    Args:
        url: ``sqlite:///path/catalog.db`` or ``postgresql://user@host:port/db``.
        connect_args: Extra arguments for the database driver.
    """

    def __init__(self, url: str, *, connect_args: dict[str, Any] | None = None) -> None:
        self.url = url
        self._engine = _make_engine(url, connect_args or {})
        self._lock = threading.Lock()
        try:
            _migrate.upgrade(self._engine)
        except sa_exc.OperationalError as exc:
            raise BackendUnavailable(
                f"Cannot open the catalog at {_redact(url)}: {exc.orig}. Check that the "
                "database is running and the URL (SHIPYARD_CATALOG_URL) is right."
            ) from exc

    # --- plumbing -------------------------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[Connection]:
        try:
            with (
                self._engine.connect().execution_options(shipyard_write=True) as conn,
                conn.begin(),
            ):
                yield conn
        except sa_exc.IntegrityError:
            raise
        except sa_exc.OperationalError as exc:
            raise BackendUnavailable(f"The catalog database failed: {exc.orig}.") from exc

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self._engine.connect() as conn:
                yield conn
        except sa_exc.OperationalError as exc:
            raise BackendUnavailable(f"The catalog database failed: {exc.orig}.") from exc

    def _with_next_version(self, attempt: Callable[[Connection], T]) -> T:
        """Run a write that allocates a version number, retrying when a writer raced us."""
        for _ in range(_VERSION_RETRIES):
            try:
                with self._write() as conn:
                    return attempt(conn)
            except sa_exc.IntegrityError:
                continue
        raise BackendUnavailable("Too many concurrent writers; try again.")

    @staticmethod
    def _audit(
        conn: Connection,
        actor: Actor,
        action: str,
        object_type: str,
        object_id: str,
        details: JSON | None = None,
    ) -> int:
        result = conn.execute(
            audit_events.insert().values(
                at=_now(),
                actor=actor.name,
                action=action,
                object_type=object_type,
                object_id=object_id,
                face=actor.face,
                details=details or {},
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]

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
            version = _dataset_from_row(row)
            self._audit(
                conn,
                actor,
                "dataset.create",
                "dataset",
                version.ref,
                {"rows": num_rows, "source": source},
            )
            return version

        return self._with_next_version(attempt)

    def get_dataset_version(self, name: str, version: int | None = None) -> DatasetVersion:
        query = sa.select(dataset_versions).where(dataset_versions.c.name == name)
        if version is None:
            query = query.order_by(dataset_versions.c.version.desc()).limit(1)
        else:
            query = query.where(dataset_versions.c.version == version)
        with self._read() as conn:
            row = conn.execute(query).mappings().first()
            if row is not None:
                return _dataset_from_row(row)
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
            return [_dataset_from_row(r) for r in conn.execute(query).mappings()]

    # --- runs -----------------------------------------------------------------------------
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
        run_id = uuid.uuid4().hex
        row: dict[str, Any] = {
            "id": run_id,
            "experiment": experiment,
            "name": name,
            "status": "running",
            "params": params,
            "metrics": {},
            "tags": tags,
            "inputs": inputs,
            "outputs": {},
            "created_by": actor.name,
            "started_at": _now(),
            "ended_at": None,
            "error": None,
        }
        with self._write() as conn:
            conn.execute(runs.insert().values(**row))
            self._audit(conn, actor, "run.start", "run", run_id, {"experiment": experiment})
        return _run_from_row(row)

    def log_metrics(self, run_id: str, metrics: dict[str, float], step: int | None = None) -> None:
        if not metrics:
            return
        with self._write() as conn:
            run = self._run_row(conn, run_id)
            if step is None:
                merged = {**run["metrics"], **{k: float(v) for k, v in metrics.items()}}
                conn.execute(runs.update().where(runs.c.id == run["id"]).values(metrics=merged))
            else:
                conn.execute(
                    run_metrics.insert(),
                    [
                        {"run_id": run["id"], "key": k, "step": step, "value": float(v)}
                        for k, v in metrics.items()
                    ],
                )

    def log_curve(self, run_id: str, key: str, points: Sequence[tuple[int, float]]) -> None:
        if not points:
            return
        with self._write() as conn:
            run = self._run_row(conn, run_id)
            conn.execute(
                run_metrics.insert(),
                [
                    {"run_id": run["id"], "key": key, "step": int(s), "value": float(v)}
                    for s, v in points
                ],
            )

    def metric_history(self, run_id: str, key: str) -> list[tuple[int, float]]:
        with self._read() as conn:
            run = self._run_row(conn, run_id)
            rows = conn.execute(
                sa.select(run_metrics.c.step, run_metrics.c.value)
                .where(run_metrics.c.run_id == run["id"], run_metrics.c.key == key)
                .order_by(run_metrics.c.step)
            )
            return [(int(s), float(v)) for s, v in rows]

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
        if status not in ("finished", "failed"):
            raise InvalidInput(f"A run ends as 'finished' or 'failed'. Got '{status}' instead.")
        with self._write() as conn:
            row = dict(self._run_row(conn, run_id))
            row.update(
                status=status,
                metrics={**row["metrics"], **(metrics or {})},
                outputs={**row["outputs"], **(outputs or {})},
                error=error,
                ended_at=_now(),
            )
            conn.execute(runs.update().where(runs.c.id == row["id"]).values(**row))
            self._audit(conn, actor, f"run.{status}", "run", row["id"])
        return _run_from_row(row)

    def get_run(self, run_id: str) -> Run:
        with self._read() as conn:
            return _run_from_row(self._run_row(conn, run_id))

    def list_runs(self, experiment: str | None = None) -> list[Run]:
        query = sa.select(runs).order_by(runs.c.started_at.desc())
        if experiment is not None:
            query = query.where(runs.c.experiment == experiment)
        with self._read() as conn:
            return [_run_from_row(r) for r in conn.execute(query).mappings()]

    @staticmethod
    def _run_row(conn: Connection, run_id: str) -> Any:
        row = conn.execute(sa.select(runs).where(runs.c.id == run_id)).mappings().first()
        if row is not None:
            return row
        if len(run_id) >= 6:
            rows = (
                conn.execute(sa.select(runs).where(runs.c.id.startswith(run_id)).limit(2))
                .mappings()
                .all()
            )
            if len(rows) == 1:
                return rows[0]
            if len(rows) > 1:
                raise InvalidInput(f"Run id prefix '{run_id}' is ambiguous; give more of it.")
        raise NotFound(f"No run with id '{run_id}'. See `shipyard runs list`.")

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
            }
            conn.execute(model_versions.insert().values(**row))
            version = _model_from_row(row, ())
            self._audit(conn, actor, "model.register", "model", version.ref, {"run": run_id})
            return version

        return self._with_next_version(attempt)

    def get_model_version(self, name: str, version: int | None = None) -> ModelVersion:
        query = sa.select(model_versions).where(model_versions.c.name == name)
        if version is None:
            query = query.order_by(model_versions.c.version.desc()).limit(1)
        else:
            query = query.where(model_versions.c.version == version)
        with self._read() as conn:
            row = conn.execute(query).mappings().first()
            if row is None:
                self._raise_model_not_found(conn, name, f"version {version}")
            return _model_from_row(row, self._aliases_of(conn, name, row["version"]))

    def list_model_versions(self, name: str | None = None) -> list[ModelVersion]:
        query = sa.select(model_versions).order_by(model_versions.c.name, model_versions.c.version)
        if name is not None:
            query = query.where(model_versions.c.name == name)
        with self._read() as conn:
            alias_rows = conn.execute(sa.select(model_aliases)).mappings().all()
            by_version: dict[tuple[str, int], list[str]] = {}
            for a in alias_rows:
                by_version.setdefault((a["name"], a["version"]), []).append(a["alias"])
            return [
                _model_from_row(r, tuple(sorted(by_version.get((r["name"], r["version"]), []))))
                for r in conn.execute(query).mappings()
            ]

    def set_alias(self, name: str, alias: str, version: int, *, actor: Actor) -> ModelVersion:
        with self._write() as conn:
            row = (
                conn.execute(
                    sa.select(model_versions).where(
                        model_versions.c.name == name, model_versions.c.version == version
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                self._raise_model_not_found(conn, name, f"version {version}")
            previous = conn.execute(
                sa.select(model_aliases.c.version).where(
                    model_aliases.c.name == name, model_aliases.c.alias == alias
                )
            ).scalar()
            values = {"version": version, "updated_by": actor.name, "updated_at": _now()}
            if previous is None:
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
            return _model_from_row(row, self._aliases_of(conn, name, version))

    def resolve_alias(self, name: str, alias: str) -> ModelVersion:
        with self._read() as conn:
            version = conn.execute(
                sa.select(model_aliases.c.version).where(
                    model_aliases.c.name == name, model_aliases.c.alias == alias
                )
            ).scalar()
            if version is None:
                exists = conn.execute(
                    sa.select(model_versions.c.id).where(model_versions.c.name == name).limit(1)
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
    def _raise_model_not_found(conn: Connection, name: str, what: str) -> NoReturn:
        names = conn.execute(sa.select(model_versions.c.name).distinct()).scalars().all()
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
        return Report(**{**row, "created_at": _utc(row["created_at"])})

    # --- audit ----------------------------------------------------------------------------
    def record_event(
        self, action: str, object_type: str, object_id: str, *, actor: Actor, details: JSON
    ) -> AuditEvent:
        with self._write() as conn:
            event_id = self._audit(conn, actor, action, object_type, object_id, details)
            row = (
                conn.execute(sa.select(audit_events).where(audit_events.c.id == event_id))
                .mappings()
                .one()
            )
        return _event_from_row(row)

    def list_events(self, limit: int = 100, object_type: str | None = None) -> list[AuditEvent]:
        query = sa.select(audit_events).order_by(audit_events.c.id.desc()).limit(limit)
        if object_type is not None:
            query = query.where(audit_events.c.object_type == object_type)
        with self._read() as conn:
            return [_event_from_row(r) for r in conn.execute(query).mappings()]

    def close(self) -> None:
        self._engine.dispose()


def _next_version(conn: Connection, table: sa.Table, name: str) -> int:
    # Racing writers may compute the same number; the unique constraint makes one retry.
    current = conn.execute(
        sa.select(sa.func.max(table.c.version)).where(table.c.name == name)
    ).scalar()
    return int(current or 0) + 1


# --- rows to entities -----------------------------------------------------------------------
def _dataset_from_row(row: Any) -> DatasetVersion:
    return DatasetVersion(
        name=row["name"],
        version=int(row["version"]),
        fingerprint=row["fingerprint"],
        columns=tuple(ColumnSchema(c["name"], c["type"]) for c in row["columns"]),
        num_rows=int(row["num_rows"]),
        num_bytes=int(row["num_bytes"]),
        source=row["source"],
        location=row["location"],
        created_by=row["created_by"],
        created_at=_utc(row["created_at"]),  # type: ignore[arg-type]
    )


def _run_from_row(row: Any) -> Run:
    return Run(
        **{k: row[k] for k in Run.__dataclass_fields__ if k not in ("started_at", "ended_at")},
        started_at=_utc(row["started_at"]),  # type: ignore[arg-type]
        ended_at=_utc(row["ended_at"]),
    )


def _model_from_row(row: Any, aliases: tuple[str, ...]) -> ModelVersion:
    fields = {k: row[k] for k in ModelVersion.__dataclass_fields__ if k in row}
    fields.update(version=int(row["version"]), created_at=_utc(row["created_at"]), aliases=aliases)
    return ModelVersion(**fields)


def _event_from_row(row: Any) -> AuditEvent:
    return AuditEvent(**{**row, "at": _utc(row["at"])})


# --- engines --------------------------------------------------------------------------------
def _redact(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa_exc.ArgumentError:
        return "<unparseable URL>"


def _make_engine(url: str, connect_args: dict[str, Any]) -> Engine:
    try:
        parsed = sa.engine.make_url(url)
    except sa_exc.ArgumentError as exc:
        raise InvalidInput(f"'{url}' is not a database URL.") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(
            parsed, connect_args={"timeout": 30, "check_same_thread": False, **connect_args}
        )
        _sqlite_pragmas(engine)
        return engine
    try:
        return sa.create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
    except ModuleNotFoundError as exc:
        raise BackendUnavailable(
            f"The driver for {parsed.drivername} is not installed ({exc.name}). "
            "Install it with `pip install 'shipyard[postgres]'`."
        ) from exc


def _sqlite_pragmas(engine: Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event issue BEGIN itself (pysqlite's own is deferred).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A writer takes the lock up front, so two writers queue instead of failing with
        # SQLITE_BUSY when one upgrades a read lock that another already upgraded.
        immediate = conn.get_execution_options().get("shipyard_write")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
