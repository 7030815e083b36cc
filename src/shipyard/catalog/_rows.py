"""Catalog rows to frozen entities."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shipyard.entities import AuditEvent, ColumnSchema, DatasetVersion, ModelVersion, Run


def utc(value: datetime | None) -> datetime | None:
    """A timestamp in UTC: SQLite hands them back without their zone; they were written in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def dataset_from_row(row: Any) -> DatasetVersion:
    return DatasetVersion(
        name=row["name"],
        version=int(row["version"]),
        fingerprint=row["fingerprint"],
        columns=tuple(ColumnSchema(c["name"], c["type"]) for c in row["columns"]),
        num_rows=int(row["num_rows"]),
        num_bytes=int(row["num_bytes"]),
        source=row["source"],
        location=row["location"],
        created_by=row["created_by"],
        created_at=utc(row["created_at"]),  # type: ignore[arg-type]
    )


_RUN_TIMES = ("started_at", "ended_at", "heartbeat_at")


def run_from_row(row: Any) -> Run:
    return Run(
        **{k: row[k] for k in Run.__dataclass_fields__ if k not in _RUN_TIMES},
        started_at=utc(row["started_at"]),  # type: ignore[arg-type]
        ended_at=utc(row["ended_at"]),
        heartbeat_at=utc(row["heartbeat_at"]),
    )


def model_from_row(row: Any, aliases: tuple[str, ...]) -> ModelVersion:
    fields = {k: row[k] for k in ModelVersion.__dataclass_fields__ if k in row}
    fields.update(version=int(row["version"]), created_at=utc(row["created_at"]), aliases=aliases)
    return ModelVersion(**fields)


def event_from_row(row: Any) -> AuditEvent:
    return AuditEvent(**{**row, "at": utc(row["at"])})
