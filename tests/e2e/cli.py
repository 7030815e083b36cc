"""Run the real ``shipyard`` command in a subprocess, and make a demo-data project with it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from shipyard.demo import generate


def shipyard(
    cwd: Path, *args: str, check: bool = True, columns: int = 200
) -> subprocess.CompletedProcess[str]:
    """Run ``shipyard ARGS`` in ``cwd``; ``columns`` is the terminal width Rich lays out for."""
    env = {k: v for k, v in os.environ.items() if k != "SHIPYARD_HOME"}
    env["COLUMNS"] = str(columns)  # 200 by default, so Rich does not wrap the lines tests read
    proc = subprocess.run(
        [sys.executable, "-m", "shipyard", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"shipyard {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def make_project(root: Path, *, subscribers: int, days: int, seed: int) -> Path:
    """A project with the demo's subscribers, usage and labels ingested through the CLI."""
    generate(root / "raw", subscribers=subscribers, days=days, seed=seed)
    shipyard(root, "init")
    for name in ("subscribers", "usage", "labels"):
        shipyard(root, "ingest", str(root / "raw" / f"{name}.parquet"), "--name", name)
    return root
