"""Pipeline definitions, runs, steps, lineage and schedules: the part of the SQL catalog that
the pipelines room writes."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shipyard.catalog._pipeline_port import STEP_STATUSES
from shipyard.catalog._rows import utc
from shipyard.catalog._tables import (
    pipeline_outputs,
    pipeline_runs,
    pipeline_steps,
    pipelines,
    schedules,
)
from shipyard.entities import Actor, PipelineDefinition, PipelineRun, PipelineStep, Schedule
from shipyard.errors import Conflict, InvalidInput, NotFound, did_you_mean
from shipyard.types import JSON

_FINAL = frozenset(STEP_STATUSES[2:])
_LOGS_MAX = 64_000  # characters of a step's log kept (its end: where the error is)


def _now() -> datetime:
    return datetime.now(UTC)


def _fingerprint(definition: JSON) -> str:
    try:
        text = json.dumps(definition, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"A pipeline definition must be plain JSON: {exc}.") from exc
    return hashlib.sha256(text.encode()).hexdigest()


def _definition(row: Any, changed: bool = False) -> PipelineDefinition:
    return PipelineDefinition(
        name=row["name"],
        version=int(row["version"]),
        definition=row["definition"],
        fingerprint=row["fingerprint"],
        source=row["source"],
        created_by=row["created_by"],
        created_at=utc(row["created_at"]),  # type: ignore[arg-type]
        changed=changed,
    )


def _run(row: Any) -> PipelineRun:
    fields = {k: row[k] for k in PipelineRun.__dataclass_fields__}
    for key in ("started_at", "ended_at", "heartbeat_at"):
        fields[key] = utc(row[key])
    return PipelineRun(**fields)


def _step(row: Any) -> PipelineStep:
    fields = {k: row[k] for k in PipelineStep.__dataclass_fields__}
    for key in ("started_at", "ended_at"):
        fields[key] = utc(row[key])
    return PipelineStep(**fields)


def _schedule(row: Any) -> Schedule:
    fields = {k: row[k] for k in Schedule.__dataclass_fields__}
    for key in ("next_run_at", "last_run_at", "created_at"):
        fields[key] = utc(row[key])
    return Schedule(**fields)


class PipelinesMixin:
    """Pipeline methods of :class:`~shipyard.catalog.sql.SqlCatalog` (see the contract)."""

    _write: Any
    _read: Any
    _retrying: Any
    _audit: Any

    # --- definitions ----------------------------------------------------------------------
    def register_pipeline(
        self, name: str, *, definition: JSON, source: str | None, actor: Actor
    ) -> PipelineDefinition:
        digest = _fingerprint(definition)

        def attempt(conn: Connection) -> PipelineDefinition:
            query = sa.select(pipelines).where(pipelines.c.name == name)
            latest = (
                conn.execute(query.order_by(pipelines.c.version.desc()).limit(1)).mappings().first()
            )
            if latest is not None and latest["fingerprint"] == digest:
                if latest["source"] != source and source is not None:
                    conn.execute(
                        pipelines.update()
                        .where(pipelines.c.id == latest["id"])
                        .values(source=source)
                    )
                    return _definition({**latest, "source": source})
                return _definition(latest)
            row = {
                "name": name,
                "version": 1 if latest is None else int(latest["version"]) + 1,
                "definition": definition,
                "fingerprint": digest,
                "source": source,
                "created_by": actor.name,
                "created_at": _now(),
            }
            conn.execute(pipelines.insert().values(**row))
            stored = _definition(row, changed=True)
            self._audit(
                conn, actor, "pipeline.register", "pipeline", stored.ref, {"fp": digest[:12]}
            )
            return stored

        result: PipelineDefinition = self._retrying(attempt)
        return result

    def get_pipeline(self, name: str, version: int | None = None) -> PipelineDefinition:
        with self._read() as conn:
            return _definition(self._pipeline_row(conn, name, version))

    def list_pipelines(self) -> list[PipelineDefinition]:
        latest = (
            sa.select(pipelines.c.name, sa.func.max(pipelines.c.version).label("v"))
            .group_by(pipelines.c.name)
            .subquery()
        )
        query = (
            sa.select(pipelines)
            .join(latest, (pipelines.c.name == latest.c.name) & (pipelines.c.version == latest.c.v))
            .order_by(pipelines.c.name)
        )
        with self._read() as conn:
            return [_definition(r) for r in conn.execute(query).mappings()]

    @staticmethod
    def _pipeline_row(conn: Connection, name: str, version: int | None) -> Any:
        query = sa.select(pipelines).where(pipelines.c.name == name)
        if version is None:
            query = query.order_by(pipelines.c.version.desc()).limit(1)
        else:
            query = query.where(pipelines.c.version == version)
        row = conn.execute(query).mappings().first()
        if row is not None:
            return row
        names = conn.execute(sa.select(pipelines.c.name).distinct()).scalars().all()
        if name in names:
            raise NotFound(f"Pipeline '{name}' has no version {version}.")
        raise NotFound(
            f"No pipeline named '{name}'.{did_you_mean(name, names)} See `shipyard pipelines "
            "list`, or run a pipeline file with `shipyard pipelines run FILE`.",
            details={"pipeline": name},
        )

    # --- runs -----------------------------------------------------------------------------
    def create_pipeline_run(
        self,
        pipeline: str,
        *,
        version: int,
        params: JSON,
        steps: Sequence[str],
        trigger: str,
        resumed_from: str | None,
        actor: Actor,
    ) -> PipelineRun:
        if len(set(steps)) != len(steps):
            raise InvalidInput(f"A pipeline run names each step once. Got {list(steps)}.")
        now = _now()
        row: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "pipeline": pipeline,
            "version": int(version),
            "status": "running",
            "params": params,
            "trigger": trigger,
            "resumed_from": resumed_from,
            "created_by": actor.name,
            "started_at": now,
            "ended_at": None,
            "error": None,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "heartbeat_at": now,
        }
        empty = {"status": "pending", "attempts": 0, "inputs": {}, "outputs": {}, "logs": ""}
        with self._write() as conn:
            self._pipeline_row(conn, pipeline, version)
            conn.execute(pipeline_runs.insert().values(**row))
            if steps:
                conn.execute(
                    pipeline_steps.insert(),
                    [{"run_id": row["id"], "step": s, "position": i, **empty} for i, s in
                     enumerate(steps)],
                )  # fmt: skip
            details = {"pipeline": f"{pipeline}:{version}", "trigger": trigger}
            self._audit(conn, actor, "pipeline.run.start", "pipeline_run", row["id"], details)
        return _run(row)

    def update_pipeline_step(
        self,
        run_id: str,
        step: str,
        *,
        status: str,
        attempts: int | None = None,
        cache_key: str | None = None,
        inputs: JSON | None = None,
        outputs: JSON | None = None,
        logs: str | None = None,
        error: str | None = None,
        cached_from: str | None = None,
        started_at: datetime | None = None,
        ended_at: datetime | None = None,
        lineage: Sequence[tuple[str, str]] = (),
        actor: Actor,
    ) -> PipelineStep:
        if status not in STEP_STATUSES:
            raise InvalidInput(
                f"A pipeline step's status is one of {', '.join(STEP_STATUSES)}. "
                f"Got {status!r} instead."
            )
        given = {
            "attempts": attempts, "cache_key": cache_key, "inputs": inputs, "outputs": outputs,
            "logs": logs[-_LOGS_MAX:] if logs is not None else None, "error": error,
            "cached_from": cached_from, "started_at": started_at, "ended_at": ended_at,
        }  # fmt: skip
        values = {"status": status, **{k: v for k, v in given.items() if v is not None}}
        with self._write() as conn:
            run = self._pipeline_run_row(conn, run_id)
            if run["status"] != "running":
                raise Conflict(
                    f"Pipeline run {run['id'][:12]} is {run['status']} already "
                    f"({run['error'] or 'no error'}); its steps cannot change. Nothing was written."
                )
            key = (pipeline_steps.c.run_id == run["id"]) & (pipeline_steps.c.step == step)
            found = conn.execute(sa.select(pipeline_steps).where(key)).mappings().first()
            if found is None:
                raise NotFound(f"Pipeline run {run['id'][:12]} has no step '{step}'.")
            conn.execute(pipeline_steps.update().where(key).values(**values))
            for kind, ref in dict.fromkeys(lineage):
                conn.execute(
                    pipeline_outputs.insert().values(
                        ref=ref, run_id=run["id"], step=step, kind=kind, created_at=_now()
                    )
                )
            if status in _FINAL:
                details = {"step": step, "status": status}
                self._audit(conn, actor, "pipeline.step", "pipeline_run", run["id"], details)
            return _step({**found, **values})

    def finish_pipeline_run(
        self, run_id: str, *, status: str, error: str | None = None, actor: Actor
    ) -> PipelineRun:
        if status not in ("finished", "failed"):
            raise InvalidInput(
                f"A pipeline run ends as 'finished' or 'failed'. Got {status!r} instead."
            )
        with self._write() as conn:
            found = self._pipeline_run_row(conn, run_id)
            if found["status"] != "running":
                raise Conflict(
                    f"Pipeline run {found['id'][:12]} has ended already ({found['status']}). "
                    "Nothing was written."
                )
            now = _now()
            row = {**found, "status": status, "error": error, "ended_at": now}
            conn.execute(
                pipeline_runs.update()
                .where(pipeline_runs.c.id == found["id"])
                .values(status=status, error=error, ended_at=now)
            )
            if status == "failed":
                of_run = pipeline_steps.c.run_id == found["id"]
                conn.execute(
                    pipeline_steps.update()
                    .where(of_run, pipeline_steps.c.status == "running")
                    .values(status="failed", error=error, ended_at=now)
                )
                conn.execute(
                    pipeline_steps.update()
                    .where(of_run, pipeline_steps.c.status == "pending")
                    .values(status="cancelled")
                )
            details = {"pipeline": found["pipeline"], "error": (error or "")[:200]}
            self._audit(conn, actor, f"pipeline.run.{status}", "pipeline_run", found["id"], details)
        return _run(row)

    def get_pipeline_run(self, run_id: str) -> PipelineRun:
        with self._read() as conn:
            return _run(self._pipeline_run_row(conn, run_id))

    def list_pipeline_runs(
        self, pipeline: str | None = None, *, status: str | None = None, limit: int = 100
    ) -> list[PipelineRun]:
        query = sa.select(pipeline_runs).order_by(pipeline_runs.c.started_at.desc()).limit(limit)
        if pipeline is not None:
            query = query.where(pipeline_runs.c.pipeline == pipeline)
        if status is not None:
            query = query.where(pipeline_runs.c.status == status)
        with self._read() as conn:
            return [_run(r) for r in conn.execute(query).mappings()]

    def list_pipeline_steps(self, run_id: str) -> list[PipelineStep]:
        with self._read() as conn:
            run = self._pipeline_run_row(conn, run_id)
            query = (
                sa.select(pipeline_steps)
                .where(pipeline_steps.c.run_id == run["id"])
                .order_by(pipeline_steps.c.position)
            )
            return [_step(r) for r in conn.execute(query).mappings()]

    def find_cached_step(
        self, cache_key: str, *, not_before: datetime | None = None
    ) -> PipelineStep | None:
        query = (
            sa.select(pipeline_steps)
            .where(pipeline_steps.c.cache_key == cache_key, pipeline_steps.c.status == "finished")
            .order_by(pipeline_steps.c.ended_at.desc())
            .limit(1)
        )
        if not_before is not None:
            query = query.where(pipeline_steps.c.ended_at >= not_before)
        with self._read() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _step(row)

    def heartbeat_pipeline_runs(self, host: str, pid: int) -> int:
        with self._write() as conn:
            result = conn.execute(
                pipeline_runs.update()
                .where(
                    pipeline_runs.c.status == "running",
                    pipeline_runs.c.host == host,
                    pipeline_runs.c.pid == pid,
                )
                .values(heartbeat_at=_now())
            )
            return int(result.rowcount or 0)

    def pipeline_lineage(self, ref: str) -> list[tuple[str, str]]:
        query = (
            sa.select(pipeline_outputs.c.run_id, pipeline_outputs.c.step)
            .where(pipeline_outputs.c.ref == ref)
            .order_by(pipeline_outputs.c.created_at)
        )
        with self._read() as conn:
            return [(r, s) for r, s in conn.execute(query)]

    @staticmethod
    def _pipeline_run_row(conn: Connection, run_id: str) -> Any:
        table = pipeline_runs
        row = conn.execute(sa.select(table).where(table.c.id == run_id)).mappings().first()
        if row is not None:
            return row
        if len(run_id) >= 6:
            query = sa.select(table).where(table.c.id.startswith(run_id, autoescape=True))
            rows = conn.execute(query.limit(2)).mappings().all()
            if len(rows) == 1:
                return rows[0]
            if len(rows) > 1:
                raise InvalidInput(
                    f"Pipeline run id prefix '{run_id}' is ambiguous; give more of it."
                )
        raise NotFound(
            f"No pipeline run with id '{run_id}'. See `shipyard pipelines runs PIPELINE`.",
            details={"run": run_id},
        )

    # --- schedules ------------------------------------------------------------------------
    def set_schedule(
        self,
        pipeline: str,
        *,
        cron: str,
        params: JSON,
        missed: str,
        next_run_at: datetime,
        actor: Actor,
    ) -> Schedule:
        row: dict[str, Any] = {
            "pipeline": pipeline,
            "cron": cron,
            "params": params,
            "missed": missed,
            "next_run_at": next_run_at,
            "last_run_at": None,
            "last_run_id": None,
            "created_by": actor.name,
            "created_at": _now(),
        }
        with self._write() as conn:
            self._pipeline_row(conn, pipeline, None)
            conn.execute(schedules.delete().where(schedules.c.pipeline == pipeline))
            conn.execute(schedules.insert().values(**row))
            details = {"cron": cron, "missed": missed}
            self._audit(conn, actor, "schedule.set", "pipeline", pipeline, details)
        return _schedule(row)

    def list_schedules(self) -> list[Schedule]:
        with self._read() as conn:
            rows = conn.execute(sa.select(schedules).order_by(schedules.c.pipeline)).mappings()
            return [_schedule(r) for r in rows]

    def delete_schedule(self, pipeline: str, *, actor: Actor) -> Schedule:
        key = schedules.c.pipeline == pipeline
        with self._write() as conn:
            row = conn.execute(sa.select(schedules).where(key)).mappings().first()
            if row is None:
                raise NotFound(
                    f"Pipeline '{pipeline}' has no schedule. See `shipyard pipelines schedules`."
                )
            conn.execute(schedules.delete().where(key))
            self._audit(conn, actor, "schedule.delete", "pipeline", pipeline, {})
            return _schedule(row)

    def claim_schedule(
        self, pipeline: str, *, due: datetime, next_run_at: datetime, actor: Actor
    ) -> Schedule | None:
        key = (schedules.c.pipeline == pipeline) & (schedules.c.next_run_at == due)
        with self._write() as conn:
            done = conn.execute(schedules.update().where(key).values(next_run_at=next_run_at))
            if not done.rowcount:
                return None
            row = (
                conn.execute(sa.select(schedules).where(schedules.c.pipeline == pipeline))
                .mappings()
                .one()
            )
            details = {"due": due.isoformat(), "next": next_run_at.isoformat()}
            self._audit(conn, actor, "schedule.fire", "pipeline", pipeline, details)
            return _schedule(row)

    def record_schedule_run(self, pipeline: str, run_id: str, at: datetime) -> None:
        with self._write() as conn:
            conn.execute(
                schedules.update()
                .where(schedules.c.pipeline == pipeline)
                .values(last_run_id=run_id, last_run_at=at)
            )
