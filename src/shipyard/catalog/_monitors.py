"""Monitors, their runs and alerts: the part of the SQL catalog that model monitoring writes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shipyard.catalog._rows import utc
from shipyard.catalog._tables import alerts, monitor_runs, monitors
from shipyard.entities import Actor, Alert, Monitor, MonitorRun
from shipyard.errors import AlreadyExists, Conflict, NotFound, did_you_mean
from shipyard.types import JSON


def _monitor(row: Any) -> Monitor:
    fields = {k: row[k] for k in Monitor.__dataclass_fields__}
    fields.update(kinds=tuple(row["kinds"]), created_at=utc(row["created_at"]))
    return Monitor(**fields)


def _run(row: Any) -> MonitorRun:
    fields = {k: row[k] for k in MonitorRun.__dataclass_fields__}
    for key in ("window_start", "window_end", "created_at"):
        fields[key] = utc(row[key])
    return MonitorRun(**fields)


def _alert(row: Any) -> Alert:
    fields = {k: row[k] for k in Alert.__dataclass_fields__}
    for key in ("window_start", "window_end", "created_at", "acked_at"):
        fields[key] = utc(row[key])
    return Alert(**fields)


class MonitorsMixin:
    """Monitor methods of :class:`~shipyard.catalog.sql.SqlCatalog` (see the Catalog contract)."""

    _write: Any
    _read: Any
    _audit: Any

    def create_monitor(
        self,
        name: str,
        *,
        model: str,
        kinds: Sequence[str],
        schedule: str | None,
        window_seconds: int,
        labels: JSON,
        action: str | None,
        webhook: JSON,
        actor: Actor,
    ) -> Monitor:
        row: dict[str, Any] = {
            "name": name,
            "model": model,
            "kinds": list(kinds),
            "schedule": schedule,
            "window_seconds": int(window_seconds),
            "labels": labels,
            "action": action,
            "webhook": webhook,
            "created_by": actor.name,
            "created_at": datetime.now(UTC),
        }
        with self._write() as conn:
            exists = conn.execute(sa.select(monitors.c.name).where(monitors.c.name == name))
            if exists.first() is not None:
                raise AlreadyExists(
                    f"A monitor named '{name}' exists already. Pick another name, or see it "
                    f"with `shipyard monitors show {name}`."
                )
            conn.execute(monitors.insert().values(**row))
            details = {"model": model, "kinds": list(kinds), "schedule": schedule}
            self._audit(conn, actor, "monitor.create", "monitor", name, details)
        return _monitor(row)

    def get_monitor(self, name: str) -> Monitor:
        with self._read() as conn:
            return _monitor(self._monitor_row(conn, name))

    def list_monitors(self) -> list[Monitor]:
        with self._read() as conn:
            rows = conn.execute(sa.select(monitors).order_by(monitors.c.name)).mappings()
            return [_monitor(r) for r in rows]

    def record_monitor_run(
        self,
        monitor: str,
        *,
        window_start: datetime,
        window_end: datetime,
        status: str,
        report: JSON,
        html_uri: str | None,
        alerts: Sequence[JSON],
        replace: bool = False,
        violations: int | None = None,
        actor: Actor,
    ) -> tuple[MonitorRun, list[Alert]]:
        now = datetime.now(UTC)
        with self._write() as conn:
            self._monitor_row(conn, monitor)
            key = (
                (monitor_runs.c.monitor == monitor)
                & (monitor_runs.c.window_start == window_start)
                & (monitor_runs.c.window_end == window_end)
            )
            if conn.execute(sa.select(monitor_runs.c.id).where(key)).first() is not None:
                if not replace:
                    raise AlreadyExists(
                        f"Monitor '{monitor}' has run over {window_start.isoformat()} .. "
                        f"{window_end.isoformat()} already. Nothing was written; pass --force "
                        "to run that window again."
                    )
                conn.execute(monitor_runs.delete().where(key))
            row: dict[str, Any] = {
                "monitor": monitor,
                "window_start": window_start,
                "window_end": window_end,
                "status": status,
                "report": report,
                "html_uri": html_uri,
                "violations": len(alerts) if violations is None else violations,
                "created_by": actor.name,
                "created_at": now,
            }
            run_id = conn.execute(monitor_runs.insert().values(**row)).inserted_primary_key[0]
            stored = [self._insert_alert(conn, row, a) for a in alerts]
            details = {"window_start": window_start.isoformat(), "status": status}
            self._audit(conn, actor, "monitor.run", "monitor", monitor, details)
        return _run({**row, "id": int(run_id)}), stored

    @staticmethod
    def _insert_alert(conn: Connection, run: dict[str, Any], alert: JSON) -> Alert:
        row: dict[str, Any] = {
            "monitor": run["monitor"],
            "window_start": run["window_start"],
            "window_end": run["window_end"],
            "severity": alert["severity"],
            "kind": alert["kind"],
            "violation": alert["violation"],
            "evidence": alert.get("evidence", {}),
            "status": "open",
            "notified": {},
            "created_at": run["created_at"],
            "acked_by": None,
            "acked_at": None,
            "comment": None,
        }
        inserted = conn.execute(alerts.insert().values(**row)).inserted_primary_key
        return _alert({**row, "id": int(inserted[0])})  # type: ignore[index]

    def list_monitor_runs(self, monitor: str, *, limit: int = 100) -> list[MonitorRun]:
        query = (
            sa.select(monitor_runs)
            .where(monitor_runs.c.monitor == monitor)
            .order_by(monitor_runs.c.window_start.desc(), monitor_runs.c.id.desc())
            .limit(limit)
        )
        with self._read() as conn:
            self._monitor_row(conn, monitor)
            return [_run(r) for r in conn.execute(query).mappings()]

    def list_alerts(self, *, monitor: str | None = None, status: str | None = None) -> list[Alert]:
        query = sa.select(alerts).order_by(alerts.c.id.desc())
        if monitor is not None:
            query = query.where(alerts.c.monitor == monitor)
        if status is not None:
            query = query.where(alerts.c.status == status)
        with self._read() as conn:
            return [_alert(r) for r in conn.execute(query).mappings()]

    def count_alerts(self, *, monitor: str | None = None, status: str | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(alerts)
        if monitor is not None:
            query = query.where(alerts.c.monitor == monitor)
        if status is not None:
            query = query.where(alerts.c.status == status)
        with self._read() as conn:
            return int(conn.execute(query).scalar() or 0)

    def set_alert_notified(self, alert_id: int, notified: JSON) -> Alert:
        with self._write() as conn:
            row = self._alert_row(conn, alert_id)
            merged = {**row["notified"], **notified}
            conn.execute(alerts.update().where(alerts.c.id == alert_id).values(notified=merged))
            return _alert({**row, "notified": merged})

    def ack_alert(self, alert_id: int, *, comment: str | None, actor: Actor) -> Alert:
        with self._write() as conn:
            row = self._alert_row(conn, alert_id)
            if row["status"] == "acked":
                raise Conflict(
                    f"Alert {alert_id} was acknowledged already by {row['acked_by']} at "
                    f"{utc(row['acked_at']):%Y-%m-%d %H:%M} UTC. Nothing was written."
                )
            values = {
                "status": "acked",
                "acked_by": actor.name,
                "acked_at": datetime.now(UTC),
                "comment": comment,
            }
            conn.execute(alerts.update().where(alerts.c.id == alert_id).values(**values))
            self._audit(
                conn, actor, "alert.ack", "alert", str(alert_id), {"comment": comment or ""}
            )
            return _alert({**row, **values})

    @staticmethod
    def _monitor_row(conn: Connection, name: str) -> Any:
        row = conn.execute(sa.select(monitors).where(monitors.c.name == name)).mappings().first()
        if row is not None:
            return row
        names = conn.execute(sa.select(monitors.c.name)).scalars().all()
        raise NotFound(
            f"No monitor named '{name}'.{did_you_mean(name, names)} See `shipyard monitors "
            "list`, or create one with `shipyard monitors create NAME --model MODEL`.",
            details={"monitor": name},
        )

    @staticmethod
    def _alert_row(conn: Connection, alert_id: int) -> Any:
        row = conn.execute(sa.select(alerts).where(alerts.c.id == alert_id)).mappings().first()
        if row is None:
            raise NotFound(f"No alert with id {alert_id}. See `shipyard alerts list`.")
        return row
