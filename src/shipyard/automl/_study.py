"""Where a distributed search keeps its Optuna study: beside the catalog, never inside its
tables.

Optuna's RDB storage records its schema version in an ``alembic_version`` table, and so does
the catalog (``catalog/_migrate.py``): sharing a namespace, each would take the other's
revision for its own. So on PostgreSQL the study lives in the catalog's database under its
own schema (``optuna``, through the connection's ``search_path``); on SQLite, where a
database is a file, in ``optuna.db`` next to ``catalog.db``. Every Ray worker opens the same
storage, so on several machines the catalog must be PostgreSQL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from shipyard.errors import BackendUnavailable, InvalidInput

__all__ = ["OPTUNA_SCHEMA", "StudyStorage", "study_storage"]

OPTUNA_SCHEMA = "optuna"
"""The PostgreSQL schema of the studies, in the catalog's database."""

_SQLITE_FILE = "optuna.db"


@dataclass(frozen=True)
class StudyStorage:
    """The address of the study storage: small and picklable, opened on every worker.

    Args:
        url: SQLAlchemy URL of the study database.
        sqlite_path: The database file, for SQLite.
        schema: The PostgreSQL schema holding Optuna's tables.
    """

    url: str
    sqlite_path: str | None = None
    schema: str | None = None

    def describe(self) -> str:
        """The URL without its password (recorded on the run)."""
        where = sa.engine.make_url(self.url).render_as_string(hide_password=True)
        return f"{where} (schema {self.schema})" if self.schema else where

    @contextmanager
    def connected(self, *, create: bool = False) -> Iterator[Any]:
        """The Optuna storage (made first when ``create``), closed afterwards."""
        storage = self.create() if create else self.open()
        try:
            yield storage
        finally:
            storage.remove_session()
            storage.engine.dispose()

    def create(self) -> Any:
        """Open the storage from the driver, creating the schema or file and the tables.

        Raises:
            BackendUnavailable: The database cannot be reached or written.
        """
        if self.sqlite_path is not None:
            Path(self.sqlite_path).parent.mkdir(parents=True, exist_ok=True)
        elif self.schema is not None:
            engine = sa.create_engine(self.url)
            try:
                with engine.begin() as conn:
                    conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
            except sa_exc.SQLAlchemyError as exc:
                raise self._unavailable(exc) from exc
            finally:
                engine.dispose()
        return self._rdb(skip_table_creation=False)

    def open(self) -> Any:
        """Open the storage from a worker (the driver made the tables).

        Raises:
            BackendUnavailable: The database cannot be reached from this machine (a SQLite
                file that is not here: the worker is on another node).
        """
        if self.sqlite_path is not None and not Path(self.sqlite_path).is_file():
            import socket

            raise BackendUnavailable(
                f"The study file {self.sqlite_path} is not on the Ray node "
                f"{socket.gethostname()}: a SQLite catalog serves Ray on its own machine only. "
                "To tune across machines, use a PostgreSQL catalog (SHIPYARD_CATALOG_URL)."
            )
        return self._rdb(skip_table_creation=True)

    def _rdb(self, *, skip_table_creation: bool) -> Any:
        from optuna.storages import RDBStorage

        kwargs: dict[str, Any]
        if self.sqlite_path is not None:
            # The catalog's pragmas: WAL and a busy timeout let the workers' reports queue
            # rather than fail with "database is locked".
            kwargs = {"creator": partial(_sqlite_connect, self.sqlite_path)}
        else:
            kwargs = {
                "pool_pre_ping": True,
                "connect_args": {"options": f"-c search_path={self.schema}"},
            }
        try:
            storage = RDBStorage(
                self.url, engine_kwargs=kwargs, skip_table_creation=skip_table_creation
            )
        except sa_exc.SQLAlchemyError as exc:
            raise self._unavailable(exc) from exc
        if self.sqlite_path is not None:
            _begin_immediate(storage.engine)
        return storage

    def _unavailable(self, exc: sa_exc.SQLAlchemyError) -> BackendUnavailable:
        return BackendUnavailable(
            f"Cannot open the Optuna study storage at {self.describe()}: "
            f"{getattr(exc, 'orig', None) or exc}. Check that the catalog database is "
            "reachable and writable."
        )


def study_storage(catalog_url: str) -> StudyStorage:
    """The study storage that goes with the catalog at ``catalog_url``.

    Raises:
        InvalidInput: The catalog is in memory or not SQLite / PostgreSQL.
    """
    try:
        url = sa.engine.make_url(catalog_url)
    except sa_exc.ArgumentError as exc:
        raise InvalidInput(f"'{catalog_url}' is not a database URL.") from exc
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise InvalidInput(
                "The ray backend keeps its Optuna study next to the catalog's file, and this "
                "catalog is in memory. Use a file or PostgreSQL catalog (SHIPYARD_CATALOG_URL)."
            )
        path = Path(url.database).resolve().parent / _SQLITE_FILE
        return StudyStorage(f"sqlite:///{path}", sqlite_path=str(path))
    if backend == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
        return StudyStorage(url.render_as_string(hide_password=False), schema=OPTUNA_SCHEMA)
    raise InvalidInput(
        f"The ray backend stores its Optuna study in the catalog database, which must be "
        f"SQLite or PostgreSQL; got '{backend}'."
    )


def _sqlite_connect(path: str) -> sqlite3.Connection:
    # isolation_level=None: SQLAlchemy's begin event (below) issues BEGIN itself.
    conn = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def _begin_immediate(engine: sa.engine.Engine) -> None:
    # Every transaction takes the write lock up front, so workers that report at the same
    # moment queue on the busy timeout instead of one failing with SQLITE_BUSY when both
    # upgrade a read lock (Optuna reads the trial before writing its intermediate value).
    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.engine.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
