"""Feature-store definitions: entities and feature groups, a new version per changed
definition (its canonical JSON and that JSON's fingerprint).

Revision ID: 0004_feature_store
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_feature_store"
down_revision = "0003"

_TABLES = ("feature_entities", "feature_groups")


def upgrade() -> None:
    for name in _TABLES:
        op.create_table(
            name,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("name", sa.String(128), nullable=False),
            sa.Column("version", sa.Integer, nullable=False),
            sa.Column("definition", sa.JSON, nullable=False),
            sa.Column("fingerprint", sa.String(64), nullable=False),
            sa.Column("created_by", sa.String(128), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.UniqueConstraint("name", "version", name=f"uq_{name}_name_version"),
        )


def downgrade() -> None:
    for name in reversed(_TABLES):
        op.drop_table(name)
