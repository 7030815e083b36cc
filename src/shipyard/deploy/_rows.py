"""Rows to measure a model with: a seeded sample of its training data when the lake still
has it, else rows made up from its signature."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa

from shipyard.catalog.refs import parse_dataset_ref
from shipyard.errors import NotFound
from shipyard.lake import quote_ident, quote_literal
from shipyard.model import TabularModel
from shipyard.project import Project
from shipyard.registry import LoadedModel

__all__ = ["measurement_rows"]


def measurement_rows(project: Project, loaded: LoadedModel, rows: int) -> tuple[pa.Table, str]:
    """Up to ``rows`` rows of the model's inputs, and where they came from.

    The training dataset its lineage names, sampled (seeded) when it has more rows; rows
    drawn from the signature (numbers ~ N(0, 1), the known category levels, recent times)
    when that dataset is gone or lacks an input.
    """
    names = [c["name"] for c in loaded.model.signature["inputs"]]
    dataset = (loaded.version.lineage or {}).get("dataset")
    if dataset:
        try:
            parsed = parse_dataset_ref(str(dataset))
            version = project.catalog.get_dataset_version(parsed.name, parsed.version)
        except NotFound:
            version = None
        if version is not None and {c.name for c in version.columns} >= set(names):
            table = _sample(project.lake.glob(version), names, rows)
            if version.num_rows > rows:
                return table, f"{version.ref} (a seeded sample of {rows:,} of its rows)"
            return table, f"{version.ref} (all {version.num_rows:,} rows)"
    return synthetic_rows(loaded.model, rows), "synthetic rows drawn from the signature"


def _sample(glob: str, names: list[str], rows: int) -> pa.Table:
    import duckdb

    columns = ", ".join(quote_ident(n) for n in names)
    con = duckdb.connect()
    try:
        return con.sql(
            f"SELECT {columns} FROM read_parquet('{quote_literal(glob)}') "
            f"USING SAMPLE reservoir({int(rows)} ROWS) REPEATABLE (0)"
        ).to_arrow_table()
    finally:
        con.close()


def synthetic_rows(model: TabularModel, rows: int, seed: int = 0) -> pa.Table:
    """``rows`` rows of the model's inputs made up from its encoder's column kinds."""
    rng = np.random.default_rng(seed)
    columns: dict[str, pa.Array] = {}
    now = datetime(2026, 1, 1)
    for spec in model.encoder.columns_:
        if spec.kind == "number":
            columns[spec.name] = pa.array(rng.normal(size=rows))
        elif spec.kind == "boolean":
            columns[spec.name] = pa.array(rng.random(rows) < 0.5)
        elif spec.kind == "string":
            levels = list(spec.levels) or ["a"]
            columns[spec.name] = pa.array([levels[i] for i in rng.integers(len(levels), size=rows)])
        else:
            seconds = rng.integers(0, 90 * 86400, size=rows)
            columns[spec.name] = pa.array(
                [(now - timedelta(seconds=int(s))).isoformat() for s in seconds]
            )
    return pa.table(columns)
