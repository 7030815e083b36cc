"""Alembic environment: runs on the connection Shipyard hands it (see catalog/_migrate.py)."""

from __future__ import annotations

from alembic import context

from shipyard.catalog._tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
