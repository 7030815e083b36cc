"""Endpoints and their revisions: the part of the SQL catalog that deployments write."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NoReturn

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shipyard.catalog._rows import utc
from shipyard.catalog._tables import endpoint_revisions, endpoints
from shipyard.entities import Actor, Endpoint
from shipyard.errors import AlreadyExists, Conflict, NotFound, did_you_mean
from shipyard.types import JSON

_COLUMNS = (
    endpoints.c.env,
    endpoints.c.name,
    endpoint_revisions.c.revision,
    endpoint_revisions.c.config,
    endpoint_revisions.c.state,
    endpoint_revisions.c.action,
    endpoint_revisions.c.restores,
    endpoints.c.created_by,
    endpoints.c.created_at,
    endpoint_revisions.c.created_by.label("updated_by"),
    endpoint_revisions.c.created_at.label("updated_at"),
)


def _joined(current_only: bool) -> Any:
    """Endpoints joined to their current revision, or (``current_only`` false) to all."""
    on = (endpoint_revisions.c.env == endpoints.c.env) & (
        endpoint_revisions.c.name == endpoints.c.name
    )
    if current_only:
        on = on & (endpoint_revisions.c.revision == endpoints.c.revision)
    return sa.select(*_COLUMNS).select_from(endpoints.join(endpoint_revisions, on))


def _endpoint(row: Any) -> Endpoint:
    fields = {k: row[k] for k in Endpoint.__dataclass_fields__}
    fields.update(created_at=utc(row["created_at"]), updated_at=utc(row["updated_at"]))
    return Endpoint(**fields)


def _key(env: str, name: str) -> Any:
    return (endpoints.c.env == env) & (endpoints.c.name == name)


class EndpointsMixin:
    """Endpoint methods of :class:`~shipyard.catalog.sql.SqlCatalog` (see the Catalog contract)."""

    _write: Any
    _read: Any
    _audit: Any

    def create_endpoint(
        self, env: str, name: str, *, config: JSON, state: JSON, actor: Actor
    ) -> Endpoint:
        now = datetime.now(UTC)
        with self._write() as conn:
            if conn.execute(sa.select(endpoints.c.name).where(_key(env, name))).first():
                raise AlreadyExists(
                    f"Environment {env} has an endpoint named '{name}' already. Change it "
                    f"with `shipyard endpoints update {name} --env {env}`, or pick another name.",
                    details={"env": env, "endpoint": name},
                )
            conn.execute(
                endpoints.insert().values(
                    env=env, name=name, revision=1, created_by=actor.name, created_at=now
                )
            )
            row = self._insert_revision(conn, env, name, 1, config, state, "create", None, actor)
            details = {"revision": 1, "variants": _summary(config)}
            self._audit(conn, actor, "endpoint.create", "endpoint", f"{env}/{name}", details)
        return _endpoint({**row, "created_by": actor.name, "created_at": now})

    def revise_endpoint(
        self,
        env: str,
        name: str,
        *,
        config: JSON,
        state: JSON,
        action: str,
        actor: Actor,
        restores: int | None = None,
        expected_revision: int | None = None,
        details: JSON | None = None,
    ) -> Endpoint:
        with self._write() as conn:
            head = conn.execute(sa.select(endpoints).where(_key(env, name))).mappings().first()
            if head is None:
                self._endpoint_not_found(conn, env, name)
            current = int(head["revision"])
            if expected_revision is not None and current != expected_revision:
                raise Conflict(
                    f"Endpoint {env}/{name} is at revision {current} now, not "
                    f"{expected_revision}: it changed meanwhile. Nothing was written; see "
                    f"`shipyard endpoints show {name} --env {env}` and try again.",
                    details={"revision": current, "expected": expected_revision},
                )
            revision = current + 1
            row = self._insert_revision(
                conn, env, name, revision, config, state, action, restores, actor
            )
            conn.execute(endpoints.update().where(_key(env, name)).values(revision=revision))
            audited = {"revision": revision, "variants": _summary(config), **(details or {})}
            if restores is not None:
                audited["restores"] = restores
            self._audit(conn, actor, f"endpoint.{action}", "endpoint", f"{env}/{name}", audited)
        return _endpoint(
            {**row, "created_by": head["created_by"], "created_at": head["created_at"]}
        )

    def get_endpoint(self, env: str, name: str, revision: int | None = None) -> Endpoint:
        query = _joined(revision is None).where(_key(env, name))
        if revision is not None:
            query = query.where(endpoint_revisions.c.revision == revision)
        with self._read() as conn:
            row = conn.execute(query).mappings().first()
            if row is not None:
                return _endpoint(row)
            if (
                revision is not None
                and conn.execute(sa.select(endpoints.c.revision).where(_key(env, name))).first()
            ):
                raise NotFound(
                    f"Endpoint {env}/{name} has no revision {revision}. See `shipyard "
                    f"endpoints show {name} --env {env} --history`.",
                    details={"env": env, "endpoint": name, "revision": revision},
                )
            self._endpoint_not_found(conn, env, name)

    def list_endpoints(self, env: str | None = None) -> list[Endpoint]:
        query = _joined(True).order_by(endpoints.c.env, endpoints.c.name)
        if env is not None:
            query = query.where(endpoints.c.env == env)
        with self._read() as conn:
            return [_endpoint(r) for r in conn.execute(query).mappings()]

    def endpoint_history(self, env: str, name: str) -> list[Endpoint]:
        query = _joined(False).where(_key(env, name)).order_by(endpoint_revisions.c.revision)
        with self._read() as conn:
            rows = [_endpoint(r) for r in conn.execute(query).mappings()]
            if not rows:
                self._endpoint_not_found(conn, env, name)
            return rows

    def delete_endpoint(self, env: str, name: str, *, actor: Actor) -> Endpoint:
        with self._write() as conn:
            row = conn.execute(_joined(True).where(_key(env, name))).mappings().first()
            if row is None:
                self._endpoint_not_found(conn, env, name)
            conn.execute(
                endpoint_revisions.delete().where(
                    (endpoint_revisions.c.env == env) & (endpoint_revisions.c.name == name)
                )
            )
            conn.execute(endpoints.delete().where(_key(env, name)))
            details = {"revision": row["revision"], "variants": _summary(row["config"])}
            self._audit(conn, actor, "endpoint.delete", "endpoint", f"{env}/{name}", details)
            return _endpoint(row)

    @staticmethod
    def _insert_revision(
        conn: Connection,
        env: str,
        name: str,
        revision: int,
        config: JSON,
        state: JSON,
        action: str,
        restores: int | None,
        actor: Actor,
    ) -> dict[str, Any]:
        row: dict[str, Any] = {
            "env": env,
            "name": name,
            "revision": revision,
            "config": config,
            "state": state,
            "action": action,
            "restores": restores,
            "created_by": actor.name,
            "created_at": datetime.now(UTC),
        }
        conn.execute(endpoint_revisions.insert().values(**row))
        return {**row, "updated_by": actor.name, "updated_at": row["created_at"]}

    @staticmethod
    def _endpoint_not_found(conn: Connection, env: str, name: str) -> NoReturn:
        names = (
            conn.execute(sa.select(endpoints.c.name).where(endpoints.c.env == env)).scalars().all()
        )
        elsewhere = (
            conn.execute(sa.select(endpoints.c.env).where(endpoints.c.name == name)).scalars().all()
        )
        hint = f" It exists in {', '.join(sorted(elsewhere))}." if elsewhere else ""
        raise NotFound(
            f"No endpoint named '{name}' in {env}.{did_you_mean(name, names)}{hint} See "
            f"`shipyard endpoints list --env {env}`, or create it with `shipyard endpoints "
            f"create {name} --env {env} --variant MODEL:VERSION`.",
            details={"env": env, "endpoint": name},
        )


def _summary(config: JSON) -> list[str]:
    """The variants of a configuration as ``ref=weight`` (and the shadow), for the audit."""
    out = [f"{v.get('model')}={v.get('weight')}" for v in config.get("variants", [])]
    shadow = config.get("shadow")
    if shadow:
        out.append(f"shadow {shadow.get('model')}")
    return out
