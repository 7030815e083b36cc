"""Bring a catalog database to the newest schema with Alembic, cheaply when it is already there."""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

HEAD = "0011"
"""The newest migration; checked first so that an up-to-date catalog opens without Alembic."""

_MIGRATIONS = Path(__file__).parent / "migrations"
_LOCK_KEY = 0x5348495059415244  # "SHIPYARD": the advisory lock that serializes migrations
_ONE_AT_A_TIME = threading.Lock()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> None:
    """Run every migration the database lacks."""
    if current_revision(engine) == HEAD:
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    # Catalogs opened at once on a new database would each create alembic_version and the
    # tables. One migrates at a time: threads queue on a lock (Alembic's context is global),
    # processes on the database: SQLite's BEGIN IMMEDIATE, PostgreSQL's advisory lock (its
    # DDL is transactional, and the lock ends with the transaction). The next one in then
    # finds the database at head, and Alembic does nothing.
    with _ONE_AT_A_TIME, engine.connect() as plain:
        conn = plain.execution_options(shipyard_write=True)
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
