"""`shipyard profile` on numbers at the edge of float64: a report, never a traceback."""

from __future__ import annotations

import math
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.e2e.cli import shipyard

pytestmark = pytest.mark.e2e


def test_profile_of_plus_minus_1e308_inf_and_nan(tmp_path: Path) -> None:
    values = [-1e308, 1e308, math.inf, -math.inf, math.nan, None, 0.0, 1.0]
    pq.write_table(
        pa.table({"x": pa.array(values, type=pa.float64()), "one": [4.0] * len(values)}),
        tmp_path / "edge.parquet",
    )
    shipyard(tmp_path, "init")
    shipyard(tmp_path, "ingest", str(tmp_path / "edge.parquet"), "--name", "edge")
    html = tmp_path / "edge.html"
    proc = shipyard(tmp_path, "profile", "edge", "--html", str(html), check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "Warning" not in proc.stderr
    assert "<html" in html.read_text()[:500]
