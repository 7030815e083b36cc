"""Feature-store definitions: the part of the SQL catalog that versions entities and groups."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shipyard.catalog._rows import utc
from shipyard.catalog._tables import feature_entities, feature_groups
from shipyard.entities import Actor, FeatureDefinition
from shipyard.errors import InvalidInput, NotFound, did_you_mean
from shipyard.types import JSON

_TABLES = {"entity": feature_entities, "group": feature_groups}
_WORDS = {"entity": "entity", "group": "feature group"}


def fingerprint(definition: JSON) -> str:
    """SHA-256 of the canonical JSON text (sorted keys) of a definition.

    Raises:
        InvalidInput: The definition is not plain JSON.
    """
    try:
        text = json.dumps(definition, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"A feature definition must be plain JSON: {exc}.") from exc
    return hashlib.sha256(text.encode()).hexdigest()


def _table(kind: str) -> sa.Table:
    if kind not in _TABLES:
        raise InvalidInput(
            f"The kind of a feature definition must be 'entity' or 'group'. Got {kind!r} instead."
        )
    return _TABLES[kind]


def _from_row(kind: str, row: Any, changed: bool = False) -> FeatureDefinition:
    return FeatureDefinition(
        kind=kind,
        name=row["name"],
        version=int(row["version"]),
        definition=row["definition"],
        fingerprint=row["fingerprint"],
        created_by=row["created_by"],
        created_at=utc(row["created_at"]),  # type: ignore[arg-type]
        changed=changed,
    )


def _latest(conn: Connection, table: sa.Table, name: str) -> Any:
    query = sa.select(table).where(table.c.name == name).order_by(table.c.version.desc())
    return conn.execute(query.limit(1)).mappings().first()


class FeaturesMixin:
    """Feature-store methods of :class:`~shipyard.catalog.sql.SqlCatalog` (see the contract)."""

    _read: Any
    _retrying: Any
    _audit: Any

    def apply_feature_definitions(
        self, definitions: Sequence[tuple[str, str, JSON]], *, actor: Actor
    ) -> list[FeatureDefinition]:
        items = [(k, _table(k), name, body, fingerprint(body)) for k, name, body in definitions]

        def attempt(conn: Connection) -> list[FeatureDefinition]:
            out = []
            for kind, table, name, body, digest in items:
                latest = _latest(conn, table, name)
                if latest is not None and latest["fingerprint"] == digest:
                    out.append(_from_row(kind, latest))
                    continue
                row = {
                    "name": name,
                    "version": 1 if latest is None else int(latest["version"]) + 1,
                    "definition": body,
                    "fingerprint": digest,
                    "created_by": actor.name,
                    "created_at": datetime.now(UTC),
                }
                conn.execute(table.insert().values(**row))
                stored = _from_row(kind, row, changed=True)
                self._audit(conn, actor, "feature.apply", kind, stored.ref, {"fp": digest[:12]})
                out.append(stored)
            return out

        result: list[FeatureDefinition] = self._retrying(attempt)
        return result

    def get_feature_definition(
        self, kind: str, name: str, version: int | None = None
    ) -> FeatureDefinition:
        table = _table(kind)
        query = sa.select(table).where(table.c.name == name)
        if version is None:
            query = query.order_by(table.c.version.desc()).limit(1)
        else:
            query = query.where(table.c.version == version)
        with self._read() as conn:
            row = conn.execute(query).mappings().first()
            if row is not None:
                return _from_row(kind, row)
            names = conn.execute(sa.select(table.c.name).distinct()).scalars().all()
        word = _WORDS[kind]
        if name in names:
            raise NotFound(f"The {word} '{name}' has no version {version}.")
        raise NotFound(
            f"No {word} named '{name}'.{did_you_mean(name, names)} See `shipyard features list`.",
            details={"name": name},
        )

    def list_feature_definitions(
        self, kind: str, name: str | None = None
    ) -> list[FeatureDefinition]:
        table = _table(kind)
        query = sa.select(table).order_by(table.c.name, table.c.version)
        if name is not None:
            query = query.where(table.c.name == name)
        with self._read() as conn:
            return [_from_row(kind, r) for r in conn.execute(query).mappings()]
