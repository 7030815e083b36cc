"""Endpoints: one row per endpoint of an environment naming its current revision, and every
revision (configuration, roll-out state, what made it), kept so a rollback can restore one.

Revision ID: 0008
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def _ts(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "endpoints",
        sa.Column("env", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        _ts("created_at"),
    )
    op.create_table(
        "endpoint_revisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("env", sa.String(16), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("restores", sa.Integer),
        sa.Column("created_by", sa.String(128), nullable=False),
        _ts("created_at"),
        sa.UniqueConstraint("env", "name", "revision", name="uq_endpoint_revisions_revision"),
    )


def downgrade() -> None:
    op.drop_table("endpoint_revisions")
    op.drop_table("endpoints")
