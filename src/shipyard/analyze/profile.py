"""Profile a dataset version straight from its Parquet files.

The table is read one column at a time (a few columns in flight on a thread pool, since Arrow
and NumPy release the GIL), so peak memory is a few columns, not the table. Per-column
statistics are exact, except quantiles past 200,000 values (a uniform sample, see
:func:`shipyard.analyze.stats.quantiles`). Correlations and target associations use one
uniform row sample (50,000 rows, fewer on very wide tables) shared by all columns.
Duplicate rows are counted with a 64-bit hash per row (a false match is vanishingly rare).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pyarrow as pa
from threadpoolctl import threadpool_limits

from shipyard.analyze import _columns, stats
from shipyard.analyze._alerts import alerts
from shipyard.analyze._correlations import correlations
from shipyard.analyze._io import Paths, open_dataset, require_columns
from shipyard.analyze._target import target_analysis
from shipyard.errors import InvalidInput

__all__ = ["PROFILE_VERSION", "Progress", "profile_parquet"]

PROFILE_VERSION = 1
SAMPLE_ROWS = 50_000
SAMPLE_CELLS = 20_000_000  # caps the row sample on wide tables (160 MB of float64)

Progress = Callable[[str, int, int], None]
"""``progress(step, done, total)``: called after each column and each table-level step."""


def _label_time(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInput(
        f"label_time must be a datetime or an ISO 8601 string such as '2024-06-30T00:00:00'. "
        f"Got {value!r} instead."
    )


def profile_parquet(
    paths: Paths,
    *,
    target: str | None = None,
    label_time: str | dt.datetime | dt.date | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Profile the Parquet files of one dataset version into a JSON-able dict.

    Args:
        paths: The dataset version's Parquet files (one schema).
        target: The label column: adds class balance and each feature's association with it
            (alerts on imbalance and on a feature that predicts it almost perfectly).
        label_time: When the labels were observed: datetime values later than this raise an
            ``after_label_time`` alert (a feature from the future).
        progress: Called as ``progress(step, done, total)`` while the profile is computed.

    Returns:
        ``{"version", "table", "columns", "correlations", "target", "alerts", ...}``; see
        ``docs`` in the module for the fields. Every value is a JSON scalar, list or dict.

    Raises:
        NotFound: A missing file, or an unknown ``target`` column.
        InvalidInput: Not Parquet, mismatched schemas, no rows, or a bad ``label_time``.
    """
    started = time.perf_counter()
    dataset, files = open_dataset(paths)
    names = dataset.schema.names
    if target is not None:
        require_columns([target], names, role="target")
    when = _label_time(label_time)
    n_rows = dataset.count_rows()
    if n_rows == 0:
        raise InvalidInput(
            f"The dataset has no rows ({len(files)} file(s), columns: {', '.join(names)}). "
            "Profile a version that holds data."
        )
    total_steps = len(names) + 2
    n_sample = min(n_rows, SAMPLE_ROWS, max(5_000, SAMPLE_CELLS // max(len(names), 1)))
    rng = np.random.default_rng(0)
    sample_idx = np.sort(rng.choice(n_rows, n_sample, replace=False))

    def one(name: str) -> tuple[_columns.ColumnResult, int]:
        col = dataset.to_table(columns=[name]).column(0)
        try:
            res = _columns.profile_column(name, col, sample_idx=sample_idx, label_time=when)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise InvalidInput(
                f"Could not compare column '{name}' ({col.type}) with label_time {when}: {exc}. "
                "Give label_time with the column's time zone."
            ) from exc
        return res, col.nbytes

    row_hash = np.zeros(n_rows, dtype=np.uint64)
    results: list[_columns.ColumnResult] = []
    memory = 0
    workers = min(4, os.cpu_count() or 1, len(names))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for i, (res, nbytes) in enumerate(pool.map(one, names)):
            memory += nbytes
            if res.row_hash is not None:
                # Column hashes are already mixed; an order-dependent fold is enough.
                row_hash *= np.uint64(0x100000001B3)
                row_hash += res.row_hash
                res.row_hash = None  # free it now: only the running hash is kept
            results.append(res)
            if progress:
                progress(f"column {res.profile['name']}", i + 1, total_steps)
    col_seconds = time.perf_counter() - started

    t_cols = time.perf_counter()
    row_hash.sort()
    duplicates = n_rows - stats.distinct_sorted(row_hash)
    del row_hash
    t_dups = time.perf_counter()
    profiles = [r.profile for r in results]
    semantic_counts: dict[str, int] = {}
    for p in profiles:
        semantic_counts[p["semantic_type"]] = semantic_counts.get(p["semantic_type"], 0) + 1
    missing_cells = sum(p["missing"] for p in profiles)
    table = {
        "rows": n_rows,
        "columns": len(names),
        "files": len(files),
        "duplicate_rows": duplicates,
        "duplicate_rows_pct": 100.0 * duplicates / n_rows,
        "missing_cells": missing_cells,
        "missing_cells_pct": 100.0 * missing_cells / (n_rows * len(names)),
        "memory_bytes": memory,
        "file_bytes": sum(os.path.getsize(f) for f in files),
        "semantic_types": semantic_counts,
    }
    if progress:
        progress("duplicates", len(names) + 1, total_steps)

    numeric = {
        r.profile["name"]: r.sample
        for r in results
        if r.sample is not None and r.profile["semantic_type"] in ("numeric", "boolean")
    }
    ranks = {r.profile["name"]: r.sample_rank for r in results if r.sample_rank is not None}
    categorical = {
        r.profile["name"]: r.sample
        for r in results
        if r.sample is not None and r.profile["semantic_type"] == "categorical"
    }
    # Small matrix products: BLAS threads would only spin against the column workers.
    with threadpool_limits(1):
        corr = correlations(
            {k: v for k, v in numeric.items() if k != target},
            {k: v for k, v in categorical.items() if k != target},
            ranks=ranks,
        )
    t_corr = time.perf_counter()
    target_report = None
    if target is not None:
        tres = results[names.index(target)]
        features: dict[str, tuple[str, Any, Any]] = {
            k: ("numeric", v, ranks.get(k)) for k, v in numeric.items() if k != target
        }
        features |= {k: ("categorical", v, None) for k, v in categorical.items() if k != target}
        with threadpool_limits(1):
            target_report = target_analysis(tres.profile, tres.sample, features)
    if progress:
        progress("correlations", total_steps, total_steps)

    profile: dict[str, Any] = {
        "version": PROFILE_VERSION,
        "kind": "shipyard.profile",
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "files": files,
        "label_time": when.isoformat() if when else None,
        "sample_rows": n_sample,
        "table": table,
        "columns": profiles,
        "correlations": corr,
        "target": target_report,
    }
    profile["alerts"] = alerts(profile)
    profile["timings"] = {
        "columns_s": round(col_seconds, 4),
        "duplicates_s": round(t_dups - t_cols, 4),
        "correlations_s": round(t_corr - t_dups, 4),
        "total_s": round(time.perf_counter() - started, 4),
    }
    return profile
