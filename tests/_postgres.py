"""A PostgreSQL catalog URL in a schema of its own, for the tests that run on both catalogs."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

PG_URL = os.environ.get("SHIPYARD_TEST_POSTGRES_URL")


@contextmanager
def postgres_schema_url() -> Iterator[str]:
    """The catalog URL of a fresh schema, dropped afterwards; skips the test without
    ``SHIPYARD_TEST_POSTGRES_URL``."""
    if not PG_URL:
        pytest.skip("SHIPYARD_TEST_POSTGRES_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
