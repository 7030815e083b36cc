"""A command imports only what its path uses: start-up is most of a short command's time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.e2e.cli import shipyard

pytestmark = pytest.mark.e2e

# Runs the CLI in-process, then prints the modules it loaded.
_PROBE = """
import json, sys
from shipyard.cli import main
sys.argv = ["shipyard", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
sys.__stdout__.write("\\n" + json.dumps(sorted(sys.modules)) + "\\n")
"""


def _modules(cwd: Path, *args: str) -> set[str]:
    env = {k: v for k, v in os.environ.items() if k != "SHIPYARD_HOME"}
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_help_loads_no_backend_nor_data_library(tmp_path: Path) -> None:
    loaded = _modules(tmp_path, "--help")
    heavy = {"numpy", "pyarrow", "pandas", "duckdb", "sqlalchemy", "pydantic", "fsspec"}
    assert not heavy & loaded
    assert not {m for m in loaded if m.startswith(("shipyard.train", "shipyard.analyze"))}


def test_profile_loads_neither_pandas_nor_training_code(tmp_path: Path) -> None:
    pq.write_table(
        pa.table(
            {
                "amount": [1.5, None, 3.0, 4.0] * 50,
                "country": ["FR", "DE", None, "FR"] * 50,
                "seen": pa.array([0, 1, None, 2] * 50, type=pa.timestamp("s")),
                "ok": [True, False, None, True] * 50,
            }
        ),
        tmp_path / "t.parquet",
    )
    shipyard(tmp_path, "init")
    shipyard(tmp_path, "ingest", str(tmp_path / "t.parquet"), "--name", "t")
    loaded = _modules(tmp_path, "profile", "t", "--html", str(tmp_path / "t.html"))
    assert "shipyard.analyze.profile" in loaded and (tmp_path / "t.html").is_file()
    # DuckDB (60 ms to import) runs the PII regexes over a sample; pandas (0.3-1 s) must stay
    # out, and any pyarrow.compute call imports it, so those regexes do not run in Arrow.
    unused = {"pandas", "pyarrow.dataset", "plotly", "sklearn", "scipy", "yaml", "optuna"}
    assert not unused & loaded
    assert not {m for m in loaded if m.startswith(("shipyard.train", "shipyard.analyze.bias"))}
