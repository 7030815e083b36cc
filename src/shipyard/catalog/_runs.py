"""Runs, their metrics and curves: the part of the SQL catalog that tracks experiments."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shipyard.catalog._rows import run_from_row
from shipyard.catalog._tables import model_versions, run_metrics, runs
from shipyard.entities import Actor, Run
from shipyard.errors import InvalidInput, NotFound
from shipyard.types import JSON


class RunsMixin:
    """Run methods of :class:`~shipyard.catalog.sql.SqlCatalog` (see the Catalog contract)."""

    _write: Any
    _read: Any
    _audit: Any

    # --- runs -----------------------------------------------------------------------------
    def create_run(
        self,
        *,
        experiment: str,
        name: str,
        params: JSON,
        tags: JSON,
        inputs: JSON,
        actor: Actor,
    ) -> Run:
        run_id = uuid.uuid4().hex
        row: dict[str, Any] = {
            "id": run_id,
            "experiment": experiment,
            "name": name,
            "status": "running",
            "params": params,
            "metrics": {},
            "tags": tags,
            "inputs": inputs,
            "outputs": {},
            "created_by": actor.name,
            "started_at": datetime.now(UTC),
            "ended_at": None,
            "error": None,
            "host": socket.gethostname(),
            "pid": os.getpid(),
        }
        row["heartbeat_at"] = row["started_at"]
        with self._write() as conn:
            conn.execute(runs.insert().values(**row))
            self._audit(conn, actor, "run.start", "run", run_id, {"experiment": experiment})
        return run_from_row(row)

    def log_metrics(self, run_id: str, metrics: dict[str, float], step: int | None = None) -> None:
        if not metrics:
            return
        with self._write() as conn:
            run = self._run_row(conn, run_id)
            if step is None:
                merged = {**run["metrics"], **{k: float(v) for k, v in metrics.items()}}
                conn.execute(runs.update().where(runs.c.id == run["id"]).values(metrics=merged))
            else:
                conn.execute(
                    run_metrics.insert(),
                    [
                        {"run_id": run["id"], "key": k, "step": step, "value": float(v)}
                        for k, v in metrics.items()
                    ],
                )

    def log_curve(self, run_id: str, key: str, points: Sequence[tuple[int, float]]) -> None:
        if not points:
            return
        with self._write() as conn:
            run = self._run_row(conn, run_id)
            conn.execute(
                run_metrics.insert(),
                [
                    {"run_id": run["id"], "key": key, "step": int(s), "value": float(v)}
                    for s, v in points
                ],
            )

    def metric_history(self, run_id: str, key: str) -> list[tuple[int, float]]:
        with self._read() as conn:
            run = self._run_row(conn, run_id)
            rows = conn.execute(
                sa.select(run_metrics.c.step, run_metrics.c.value)
                .where(run_metrics.c.run_id == run["id"], run_metrics.c.key == key)
                .order_by(run_metrics.c.step)
            )
            return [(int(s), float(v)) for s, v in rows]

    def finish_run(
        self,
        run_id: str,
        *,
        status: str,
        metrics: JSON | None = None,
        outputs: JSON | None = None,
        error: str | None = None,
        actor: Actor,
    ) -> Run:
        if status not in ("finished", "failed"):
            raise InvalidInput(f"A run ends as 'finished' or 'failed'. Got '{status}' instead.")
        with self._write() as conn:
            found = self._run_row(conn, run_id)
            row = self._finish_in(conn, found, status, metrics, outputs, error)
            if status == "failed":  # what it registered pending can never be published now
                conn.execute(
                    model_versions.update()
                    .where(model_versions.c.run_id == row["id"])
                    .where(model_versions.c.status == "pending")
                    .values(status="abandoned")
                )
            self._audit(conn, actor, f"run.{status}", "run", row["id"])
        return run_from_row(row)

    @staticmethod
    def _finish_in(
        conn: Connection,
        found: Any,
        status: str,
        metrics: JSON | None,
        outputs: JSON | None,
        error: str | None = None,
    ) -> dict[str, Any]:
        """End the run ``found`` inside the caller's transaction; returns its new row."""
        row = dict(found)
        row.update(
            status=status,
            metrics={**row["metrics"], **(metrics or {})},
            outputs={**row["outputs"], **(outputs or {})},
            error=error,
            ended_at=datetime.now(UTC),
        )
        conn.execute(runs.update().where(runs.c.id == row["id"]).values(**row))
        return row

    def heartbeat(self, host: str, pid: int) -> int:
        with self._write() as conn:
            result = conn.execute(
                runs.update()
                .where(runs.c.status == "running", runs.c.host == host, runs.c.pid == pid)
                .values(heartbeat_at=datetime.now(UTC))
            )
            return int(result.rowcount or 0)

    def get_run(self, run_id: str) -> Run:
        with self._read() as conn:
            return run_from_row(self._run_row(conn, run_id))

    def list_runs(self, experiment: str | None = None, *, status: str | None = None) -> list[Run]:
        query = sa.select(runs).order_by(runs.c.started_at.desc())
        if experiment is not None:
            query = query.where(runs.c.experiment == experiment)
        if status is not None:
            query = query.where(runs.c.status == status)
        with self._read() as conn:
            return [run_from_row(r) for r in conn.execute(query).mappings()]

    @staticmethod
    def _run_row(conn: Connection, run_id: str) -> Any:
        row = conn.execute(sa.select(runs).where(runs.c.id == run_id)).mappings().first()
        if row is not None:
            return row
        if len(run_id) >= 6:
            rows = (
                conn.execute(sa.select(runs).where(runs.c.id.startswith(run_id)).limit(2))
                .mappings()
                .all()
            )
            if len(rows) == 1:
                return rows[0]
            if len(rows) > 1:
                raise InvalidInput(f"Run id prefix '{run_id}' is ambiguous; give more of it.")
        raise NotFound(f"No run with id '{run_id}'. See `shipyard runs list`.")
