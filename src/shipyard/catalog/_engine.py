"""SQLAlchemy engines for the catalog: SQLite tuned for concurrent writers, or PostgreSQL."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from shipyard.errors import BackendUnavailable, InvalidInput


def redact(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa_exc.ArgumentError:
        return "<unparseable URL>"


def make_engine(url: str, connect_args: dict[str, Any]) -> Engine:
    try:
        parsed = sa.engine.make_url(url)
    except sa_exc.ArgumentError as exc:
        raise InvalidInput(f"'{url}' is not a database URL.") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            # A catalog file of its own (an environment's) may name a folder not made yet.
            with contextlib.suppress(OSError):  # else SQLite says why it cannot open it
                Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
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
