"""Model versions carry a status: a training job registers its version ``pending`` and makes it
``ready`` in the transaction that finishes its run, so a job killed in between leaves no
version that can be resolved or promoted. Versions stored before are ready.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    with op.batch_alter_table("model_versions") as batch:
        batch.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="ready"))


def downgrade() -> None:
    with op.batch_alter_table("model_versions") as batch:
        batch.drop_column("status")
