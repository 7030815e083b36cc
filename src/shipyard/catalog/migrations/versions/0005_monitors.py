"""Monitors, their runs (one per window, with its report) and the alerts their violations raise.

Revision ID: 0005
Revises: 0004_feature_store
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004_feature_store"


def upgrade() -> None:
    op.create_table(
        "monitors",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("kinds", sa.JSON, nullable=False),
        sa.Column("schedule", sa.String(128)),
        sa.Column("window_seconds", sa.Integer, nullable=False),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("action", sa.Text),
        sa.Column("webhook", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "monitor_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("monitor", sa.String(128), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("report", sa.JSON, nullable=False),
        sa.Column("html_uri", sa.Text),
        sa.Column("violations", sa.Integer, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("monitor", "window_start", "window_end", name="uq_monitor_runs_window"),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("monitor", sa.String(128), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("violation", sa.String(64), nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("notified", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acked_by", sa.String(128)),
        sa.Column("acked_at", sa.DateTime(timezone=True)),
        sa.Column("comment", sa.Text),
    )
    op.create_index("ix_alerts_monitor_status", "alerts", ["monitor", "status"])


def downgrade() -> None:
    op.drop_index("ix_alerts_monitor_status", "alerts")
    op.drop_table("alerts")
    op.drop_table("monitor_runs")
    op.drop_table("monitors")
