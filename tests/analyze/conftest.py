from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240601)


@pytest.fixture
def write_parquet(tmp_path: Path) -> Callable[..., list[str]]:
    """Write a table (or dict of columns) as Parquet, optionally split into several files."""

    def write(data: pa.Table | dict, *, files: int = 1, name: str = "part") -> list[str]:
        table = data if isinstance(data, pa.Table) else pa.table(data)
        bounds = np.linspace(0, table.num_rows, files + 1).astype(int)
        paths = []
        for i in range(files):
            path = tmp_path / f"{name}-{i}.parquet"
            pq.write_table(table.slice(bounds[i], bounds[i + 1] - bounds[i]), path)
            paths.append(str(path))
        return paths

    return write
