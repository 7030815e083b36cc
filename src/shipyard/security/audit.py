"""The audit trail's checks and export: what ``shipyard audit verify`` and ``export`` run."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from shipyard.outfile import writing

if TYPE_CHECKING:
    from shipyard.catalog import ChainReport
    from shipyard.project import Project

__all__ = ["export_audit", "verify_audit"]


def verify_audit(project: Project) -> ChainReport:
    """Walk the project's audit chain from its first event; the report lists every break.

    Raises:
        BackendUnavailable: The catalog cannot be reached or failed.
    """
    return project.catalog.verify_audit_chain()


def export_audit(project: Project, out: str | Path | None = None) -> int:
    """Write every audit event, oldest first, as JSON lines to ``out`` (stdout when None).

    Each line holds the event with its ``prev_hash`` and ``hash``, so a copy kept elsewhere
    can be checked against the catalog later. Returns how many events were written.

    Raises:
        InvalidInput: ``out`` cannot be written.
        BackendUnavailable: The catalog cannot be reached or failed.
    """
    if out is None:
        return _write_lines(project, sys.stdout)
    with writing(out, option="--out") as target, target.open("w", encoding="utf-8") as stream:
        return _write_lines(project, stream)


def _write_lines(project: Project, stream: TextIO) -> int:
    count = 0
    for event in project.catalog.iter_events():
        count += 1
        line = {
            "id": event.id,
            "at": event.at.isoformat(),
            "actor": event.actor,
            "action": event.action,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "face": event.face,
            "address": event.address,
            "details": event.details,
            "prev_hash": event.prev_hash,
            "hash": event.hash,
        }
        stream.write(json.dumps(line, sort_keys=True, default=str) + "\n")
    return count
