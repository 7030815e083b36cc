"""Security in the SQL catalog: the audit chain's reader, API tokens, PII tags."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from shipyard.catalog import _chain
from shipyard.catalog._rows import event_from_row, utc
from shipyard.catalog._tables import api_tokens, audit_events, audit_head, pii_tags
from shipyard.entities import Actor, ApiToken, AuditEvent
from shipyard.errors import Conflict, NotFound, did_you_mean

_BATCH = 1000


def _token(row: Any) -> ApiToken:
    times = {k: utc(row[k]) for k in ("created_at", "expires_at", "revoked_at")}
    return ApiToken(**{**row, **times})


class SecurityMixin:
    """Audit-chain, token and PII-tag methods of :class:`~shipyard.catalog.sql.SqlCatalog`
    (see the Catalog contract)."""

    _read: Any
    _write: Any
    _audit: Any

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

    # --- tokens ---------------------------------------------------------------------------
    def create_token(
        self,
        token_id: str,
        *,
        name: str,
        role: str,
        env: str,
        secret_hash: str,
        expires_at: datetime | None,
        actor: Actor,
    ) -> ApiToken:
        row = {
            "id": token_id,
            "name": name,
            "role": role,
            "env": env,
            "secret_hash": secret_hash,
            "created_by": actor.name,
            "created_at": datetime.now(UTC),
            "expires_at": expires_at,
            "revoked_at": None,
        }
        with self._write() as conn:
            conn.execute(api_tokens.insert().values(**row))
            details = {"name": name, "role": role, "env": env}
            self._audit(conn, actor, "token.create", "token", token_id, details)
        return _token(row)

    def get_token(self, token_id: str) -> ApiToken:
        with self._read() as conn:
            query = sa.select(api_tokens).where(api_tokens.c.id == token_id)
            row = conn.execute(query).mappings().first()
        if row is None:
            raise NotFound("No token with that id.")
        return _token(row)

    def list_tokens(self) -> list[ApiToken]:
        with self._read() as conn:
            query = sa.select(api_tokens).order_by(api_tokens.c.created_at)
            return [_token(r) for r in conn.execute(query).mappings()]

    def revoke_token(self, name: str, *, actor: Actor) -> ApiToken:
        key = (api_tokens.c.name == name) | (api_tokens.c.id == name)
        with self._write() as conn:
            row = conn.execute(sa.select(api_tokens).where(key)).mappings().first()
            if row is None:
                names = conn.execute(sa.select(api_tokens.c.name)).scalars().all()
                raise NotFound(
                    f"No token named '{name}'.{did_you_mean(name, names)} "
                    "See `shipyard tokens list`.",
                    details={"name": name},
                )
            if row["revoked_at"] is not None:
                raise Conflict(f"Token '{row['name']}' is revoked already.")
            now = datetime.now(UTC)
            conn.execute(api_tokens.update().where(key).values(revoked_at=now))
            self._audit(conn, actor, "token.revoke", "token", row["id"], {"name": row["name"]})
        return _token({**row, "revoked_at": now})

    # --- PII tags -------------------------------------------------------------------------
    def set_pii_tags(
        self,
        dataset: str,
        version: int,
        tags: Mapping[str, str],
        *,
        tagged: bool,
        source: str,
        actor: Actor,
        replace: bool = False,
    ) -> None:
        now = datetime.now(UTC)
        where = (pii_tags.c.dataset == dataset) & (pii_tags.c.version == version)
        with self._write() as conn:
            if replace:
                conn.execute(pii_tags.delete().where(where))
            elif tags:
                conn.execute(pii_tags.delete().where(where & pii_tags.c.column.in_(list(tags))))
            for column, kind in tags.items():
                conn.execute(
                    pii_tags.insert().values(
                        dataset=dataset,
                        version=version,
                        column=column,
                        kind=kind,
                        tagged=tagged,
                        source=source,
                        updated_by=actor.name,
                        updated_at=now,
                    )
                )
            details = {"version": version, "columns": sorted(tags), "tagged": tagged}
            self._audit(conn, actor, "dataset.pii", "dataset", dataset, details)

    def get_pii_tags(self, dataset: str) -> list[dict[str, Any]]:
        query = (
            sa.select(pii_tags)
            .where(pii_tags.c.dataset == dataset)
            .order_by(pii_tags.c.version, pii_tags.c.column)
        )
        with self._read() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]
