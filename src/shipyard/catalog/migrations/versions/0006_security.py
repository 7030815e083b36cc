"""Security: the audit trail becomes a hash chain (each event carries the hash of the one
before, ``audit_head`` names the newest) and records the client's address; API tokens (only
their hash is stored); PII tags on datasets. Events stored before are chained here, in id order.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("address", sa.String(64)))
        batch.add_column(sa.Column("prev_hash", sa.String(64)))
        batch.add_column(sa.Column("hash", sa.String(64)))
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("last_id", sa.Integer, nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("env", sa.String(32)),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        _ts("created_at"),
        _ts("expires_at", nullable=True),
        _ts("revoked_at", nullable=True),
    )
    op.create_table(
        "pii_tags",
        sa.Column("dataset", sa.String(128), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("column", sa.String(256), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("tagged", sa.Boolean, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        _ts("updated_at"),
    )
    _chain_existing_events()


def _chain_existing_events() -> None:
    # The hash is the one the catalog writes with (catalog/_chain.py), so old and new events
    # form one chain that `shipyard audit verify` walks from the start.
    from shipyard.catalog._chain import GENESIS, event_hash

    conn = op.get_bind()
    events = sa.table(
        "audit_events",
        sa.column("at", sa.DateTime(timezone=True)),
        *(sa.column(c) for c in ("id", "actor", "action", "object_type", "object_id", "face")),
        sa.column("address"),
        sa.column("details", sa.JSON),
        sa.column("prev_hash"),
        sa.column("hash"),
    )
    prev, last_id = GENESIS, None
    for row in conn.execute(sa.select(events).order_by(events.c.id)).mappings().all():
        digest = event_hash(row, prev)
        conn.execute(
            events.update().where(events.c.id == row["id"]).values(prev_hash=prev, hash=digest)
        )
        prev, last_id = digest, row["id"]
    # The head row exists from the start: writers lock it, so none ever has to create it.
    head = sa.table("audit_head", sa.column("id"), sa.column("hash"), sa.column("last_id"))
    conn.execute(head.insert().values(id=1, hash=prev, last_id=last_id or 0))


def downgrade() -> None:
    op.drop_table("pii_tags")
    op.drop_table("api_tokens")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("address")
