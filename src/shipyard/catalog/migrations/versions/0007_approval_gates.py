"""Approval and promotion gates: each model version carries an approval status
(``PendingManualApproval`` for every version stored before, as for a new one), the history of
its changes (who, when, why), and the record of each promotion into an environment with the
evidence of every gate it was checked by.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    with op.batch_alter_table("model_versions") as batch:
        batch.add_column(
            sa.Column(
                "approval", sa.String(32), nullable=False, server_default="PendingManualApproval"
            )
        )
    op.create_table(
        "model_approvals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("previous", sa.String(32), nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("changed_by", sa.String(128), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_model_approvals_name_version", "model_approvals", ["name", "version"])
    op.create_table(
        "model_promotions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("environment", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("gates", sa.JSON, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_model_promotions_name_version", "model_promotions", ["name", "version"])


def downgrade() -> None:
    op.drop_index("ix_model_promotions_name_version", "model_promotions")
    op.drop_table("model_promotions")
    op.drop_index("ix_model_approvals_name_version", "model_approvals")
    op.drop_table("model_approvals")
    with op.batch_alter_table("model_versions") as batch:
        batch.drop_column("approval")
