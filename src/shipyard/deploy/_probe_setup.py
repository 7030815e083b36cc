"""What ``shipyard recommend`` hands each measuring process (:mod:`shipyard.serve._probe`,
started as its own Python, so this room never imports the server)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ProbeSetup"]


@dataclass(frozen=True)
class ProbeSetup:
    """What a measuring process needs: the verified bundle, the version it is, the rows,
    and the server's limits."""

    folder: str
    signing_key: bytes | None
    version: Any  # ModelVersion: the app names it in responses and /v1/model
    rows_path: str
    max_body_bytes: int
    max_rows: int
    metrics: bool
