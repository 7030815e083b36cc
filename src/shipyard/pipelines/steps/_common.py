"""What several built-in kinds share: paths relative to the project, the digest of the files
a step reads, a stored report as an output value."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from shipyard.project import Project

_CHUNK = 1 << 20


def project_path(project: Project, text: str) -> Path:
    """A path as a pipeline gives it: absolute, or relative to the project folder."""
    path = Path(text).expanduser()
    return path if path.is_absolute() else project.root / path


def files_digest(path: Path) -> str:
    """The SHA-256 of the bytes of a file, or of every file under a folder (by name)."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if not file.exists():
            digest.update(f"missing:{file}".encode())
            continue
        digest.update(str(file.relative_to(path) if path.is_dir() else file.name).encode())
        with file.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def report_value(subject: str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A ``report`` output for a report a room stored about ``subject``."""
    text = json.dumps(payload, sort_keys=True, default=str)
    return {"subject": subject, "kind": kind, "sha256": hashlib.sha256(text.encode()).hexdigest()}
