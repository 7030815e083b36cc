"""A demo-data project that the end-to-end tests of a module share."""

from __future__ import annotations

from pathlib import Path

from shipyard.demo import generate
from tests.e2e.cli import shipyard


def make_project(root: Path, *, subscribers: int, days: int, seed: int) -> Path:
    """A project with the demo's subscribers, usage and labels ingested through the CLI."""
    generate(root / "raw", subscribers=subscribers, days=days, seed=seed)
    shipyard(root, "init")
    for name in ("subscribers", "usage", "labels"):
        shipyard(root, "ingest", str(root / "raw" / f"{name}.parquet"), "--name", name)
    return root
