"""Approval status, its history, promotion records and the import of a version from another
catalog: the part of the SQL catalog that the registry's approval and gates write."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shipyard.catalog._rows import model_from_row, utc
from shipyard.catalog._tables import model_approvals, model_promotions, model_versions
from shipyard.entities import (
    APPROVAL_STATUSES,
    Actor,
    ApprovalChange,
    GateResult,
    ModelVersion,
    PromotionRecord,
)
from shipyard.errors import AlreadyExists, Conflict, InvalidInput, did_you_mean

OUTCOMES = ("promoted", "forced", "refused")
_READY = "ready"
_AUDIT_ACTION = {
    "promoted": "model.promote",
    "forced": "model.promote.override",
    "refused": "model.promote.refused",
}


def _change(row: Any) -> ApprovalChange:
    fields = {k: row[k] for k in ApprovalChange.__dataclass_fields__}
    fields.update(version=int(row["version"]), changed_at=utc(row["changed_at"]))
    return ApprovalChange(**fields)


def _gate(item: Any) -> GateResult:
    return GateResult(
        str(item["gate"]), bool(item["passed"]), str(item["summary"]), item.get("evidence") or {}
    )


def _promotion(row: Any) -> PromotionRecord:
    fields = {k: row[k] for k in PromotionRecord.__dataclass_fields__}
    fields.update(
        version=int(row["version"]),
        gates=tuple(_gate(g) for g in row["gates"]),
        created_at=utc(row["created_at"]),
    )
    return PromotionRecord(**fields)


def _gate_json(gate: GateResult) -> dict[str, Any]:
    return {
        "gate": gate.gate,
        "passed": gate.passed,
        "summary": gate.summary,
        "evidence": gate.evidence,
    }


class ApprovalsMixin:
    """Approval and promotion methods of :class:`~shipyard.catalog.sql.SqlCatalog` (see the
    Catalog contract)."""

    _read: Any
    _write: Any
    _audit: Any
    _retrying: Any
    _point_alias: Any
    _raise_model_not_found: Any

    def _ready_row(self, conn: Connection, name: str, version: int) -> Any:
        row = (
            conn.execute(
                sa.select(model_versions).where(
                    model_versions.c.name == name, model_versions.c.version == version
                )
            )
            .mappings()
            .first()
        )
        if row is None or row["status"] != _READY:
            self._raise_model_not_found(conn, name, f"version {version}", row)
        return row

    def set_approval(
        self, name: str, version: int, status: str, *, comment: str, actor: Actor
    ) -> ApprovalChange:
        if status not in APPROVAL_STATUSES:
            raise InvalidInput(
                f"An approval status is one of {', '.join(APPROVAL_STATUSES)}. Got {status!r} "
                f"instead.{did_you_mean(status, APPROVAL_STATUSES)}"
            )
        if not comment.strip():
            raise InvalidInput(
                'An approval change needs a comment saying why (--comment "..."). Got an empty one.'
            )
        with self._write() as conn:
            row = self._ready_row(conn, name, version)
            previous = row["approval"]
            if previous == status:
                raise Conflict(
                    f"Model version {name}:{version} is {status} already; nothing was changed. "
                    f"See its history with `shipyard models history {name}:{version}`."
                )
            key = (model_versions.c.name == name) & (model_versions.c.version == version)
            conn.execute(model_versions.update().where(key).values(approval=status))
            change = {
                "name": name,
                "version": version,
                "status": status,
                "previous": previous,
                "comment": comment,
                "changed_by": actor.name,
                "changed_at": datetime.now(UTC),
            }
            conn.execute(model_approvals.insert().values(**change))
            details = {"status": status, "previous": previous, "comment": comment}
            self._audit(conn, actor, "model.approval", "model", f"{name}:{version}", details)
        return _change(change)

    def list_approvals(self, name: str, version: int) -> list[ApprovalChange]:
        query = (
            sa.select(model_approvals)
            .where(model_approvals.c.name == name, model_approvals.c.version == version)
            .order_by(model_approvals.c.id)
        )
        with self._read() as conn:
            return [_change(r) for r in conn.execute(query).mappings()]

    def record_promotion(
        self,
        name: str,
        version: int,
        environment: str,
        *,
        outcome: str,
        gates: Sequence[GateResult],
        reason: str | None,
        move_alias: bool,
        actor: Actor,
    ) -> PromotionRecord:
        _check_promotion(outcome, reason, move_alias)
        gate_rows = [_gate_json(g) for g in gates]

        def attempt(conn: Connection) -> PromotionRecord:
            self._ready_row(conn, name, version)
            if move_alias:
                self._point_alias(conn, name, environment, version, actor)
            row: dict[str, Any] = {
                "name": name,
                "version": version,
                "environment": environment,
                "outcome": outcome,
                "gates": gate_rows,
                "reason": reason,
                "created_by": actor.name,
                "created_at": datetime.now(UTC),
            }
            inserted = conn.execute(model_promotions.insert().values(**row)).inserted_primary_key
            row["id"] = int(inserted[0])  # type: ignore[index]
            failed = [g["gate"] for g in gate_rows if not g["passed"]]
            details = {"environment": environment, "failed": failed, "reason": reason}
            ref = f"{name}:{version}"
            self._audit(conn, actor, _AUDIT_ACTION[outcome], "model", ref, details)
            return _promotion(row)

        result: PromotionRecord = self._retrying(attempt)
        return result

    def list_promotions(self, name: str, version: int | None = None) -> list[PromotionRecord]:
        query = sa.select(model_promotions).where(model_promotions.c.name == name)
        if version is not None:
            query = query.where(model_promotions.c.version == version)
        with self._read() as conn:
            rows = conn.execute(query.order_by(model_promotions.c.id)).mappings()
            return [_promotion(r) for r in rows]

    def import_model_version(
        self,
        version: ModelVersion,
        *,
        approvals: Sequence[ApprovalChange],
        promotions: Sequence[PromotionRecord],
        actor: Actor,
    ) -> ModelVersion:
        row = {
            "name": version.name,
            "version": version.version,
            "run_id": version.run_id,
            "bundle_uri": version.bundle_uri,
            "problem_type": version.problem_type,
            "signature": version.signature,
            "metrics": version.metrics,
            "lineage": version.lineage,
            "created_by": version.created_by,
            "created_at": version.created_at,
            "status": _READY,
            "approval": version.approval,
        }
        with self._write() as conn:
            exists = conn.execute(
                sa.select(model_versions.c.id).where(
                    model_versions.c.name == version.name,
                    model_versions.c.version == version.version,
                )
            ).first()
            if exists is not None:
                raise AlreadyExists(
                    f"This catalog holds {version.ref} already; nothing was written.",
                    details={"model": version.ref},
                )
            conn.execute(model_versions.insert().values(**row))
            for change in approvals:
                conn.execute(model_approvals.insert().values(**_change_row(change)))
            for record in promotions:
                conn.execute(model_promotions.insert().values(**_promotion_row(record)))
            details = {"approval": version.approval, "bundle": version.bundle_uri}
            self._audit(conn, actor, "model.import", "model", version.ref, details)
        return model_from_row(row, ())


def _check_promotion(outcome: str, reason: str | None, move_alias: bool) -> None:
    if outcome not in OUTCOMES:
        raise InvalidInput(
            f"A promotion's outcome is one of {', '.join(OUTCOMES)}. Got {outcome!r} instead."
        )
    if outcome == "refused" and move_alias:
        raise InvalidInput("A refused promotion cannot move the alias.")
    if outcome == "forced" and not (reason or "").strip():
        raise InvalidInput('A forced promotion needs a reason (--reason "...").')


def _change_row(change: ApprovalChange) -> dict[str, Any]:
    return {k: getattr(change, k) for k in ApprovalChange.__dataclass_fields__}


def _promotion_row(record: PromotionRecord) -> dict[str, Any]:
    row = {k: getattr(record, k) for k in PromotionRecord.__dataclass_fields__ if k != "id"}
    row["gates"] = [_gate_json(g) for g in record.gates]
    return row
