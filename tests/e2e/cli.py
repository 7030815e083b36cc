"""Run the real ``shipyard`` command in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


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
