"""The audit chain's reader: the part of the SQL catalog that ``shipyard audit`` walks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from shipyard.catalog import _chain
from shipyard.catalog._rows import event_from_row
from shipyard.catalog._tables import audit_events, audit_head
from shipyard.entities import AuditEvent

_BATCH = 1000


class AuditChainMixin:
    """Audit-chain methods of :class:`~shipyard.catalog.sql.SqlCatalog` (see the contract)."""

    _read: Any

    def _event_rows(self) -> Iterator[Any]:
        # In id batches, so a long trail streams instead of filling memory.
        after = 0
        while True:
            query = (
                sa.select(audit_events)
                .where(audit_events.c.id > after)
                .order_by(audit_events.c.id)
                .limit(_BATCH)
            )
            with self._read() as conn:
                rows = conn.execute(query).mappings().all()
            yield from rows
            if len(rows) < _BATCH:
                return
            after = rows[-1]["id"]

    def iter_events(self) -> Iterator[AuditEvent]:
        for row in self._event_rows():
            yield event_from_row(row)

    def verify_audit_chain(self) -> _chain.ChainReport:
        with self._read() as conn:
            head = conn.execute(sa.select(audit_head).where(audit_head.c.id == 1)).mappings()
            head_row = head.first()
        return _chain.verify(self._event_rows(), dict(head_row) if head_row else None)
