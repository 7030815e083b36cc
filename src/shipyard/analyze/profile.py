"""Profile a dataset version straight from its Parquet files.

The table is read one column at a time (a few columns in flight on a thread pool, since Arrow
and NumPy release the GIL), so peak memory is a few columns, not the table. Per-column
statistics are exact, except quantiles past 200,000 values (a uniform sample, see
:func:`shipyard.analyze.stats.quantiles`). Correlations and target associations use one
uniform row sample (50,000 rows, fewer on very wide tables) shared by all columns.
Duplicate rows are counted with a 64-bit hash per row (a false match is vanishingly rare).

The profile (format ``version`` 1) holds:

- ``table``: rows, columns, files, duplicate_rows(_pct), missing_cells(_pct), memory_bytes
  (in Arrow, strings dictionary-encoded), file_bytes (Parquet, on disk), semantic_types;
- ``columns``: one dict per column: name, physical_type, semantic_type, rows, count, missing,
  missing_pct, distinct; numeric: min, max, mean, std, skewness, quantiles (p1..p99), zeros,
  zeros_pct, outliers (Tukey's 1.5 IQR), histogram {edges, counts}, non_finite, and for a
  heavy-tailed non-negative column log_histogram {edges, counts} (log-spaced, zeros left out);
  strings: top_values [{value, count, pct}], levels (all values when 50 or fewer), lengths
  {min, mean, max, histogram}, empty; datetime: min, max, histogram, after_label_time;
- ``correlations``: pearson / spearman / cramers_v {columns, matrix} and top_pairs;
- ``target`` (with a target): kind (binary, multiclass, regression), classes, minority,
  minority_pct, imbalance_ratio, associations [{column, metric, value, strength}];
- ``alerts``: [{kind, column, message, severity}], errors first;
- ``timings``: seconds per phase; ``sample_rows``, ``label_time``, ``files``, ``created_at``.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from shipyard.analyze import _columns, stats
from shipyard.analyze._alerts import alerts
from shipyard.analyze._correlations import correlations
from shipyard.analyze._identifiers import identifier_reason
from shipyard.analyze._io import ParquetColumns, Paths, open_columns, require_columns
from shipyard.analyze._target import target_analysis
from shipyard.errors import InvalidInput
from shipyard.lake import written_columns

__all__ = ["PROFILE_VERSION", "Progress", "profile_parquet"]

PROFILE_VERSION = 4  # 2: PII columns tagged and their values redacted; 3: identifiers;
# 4: log_histogram of heavy-tailed columns
SAMPLE_ROWS = 50_000
SAMPLE_CELLS = 20_000_000  # caps the row sample on wide tables (160 MB of float64)

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_SHIFT = np.uint64(29)

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
        ``{"version", "table", "columns", "correlations", "target", "alerts", ...}`` as the
        module docstring lists; every value is a JSON scalar, list or dict (no NaN).

    Raises:
        NotFound: A missing file, or an unknown ``target`` column.
        InvalidInput: Not Parquet, mismatched schemas, no rows, or a bad ``label_time``.
    """
    # BLAS threads would only spin against the column workers on reductions this small.
    with threadpool_limits(1):
        return _profile(paths, target, label_time, progress)


@dataclass(frozen=True)
class _Dataset:
    """The opened dataset and what every column's profile shares: the label time and the
    row sample."""

    source: ParquetColumns
    when: dt.datetime | None
    sample_idx: NDArray[np.int64]

    @property
    def names(self) -> list[str]:
        return list(self.source.schema.names)


@dataclass
class _Columns:
    """The column pass: each column's result, the Arrow bytes read, and the running row
    hash that counts duplicate rows."""

    results: list[_columns.ColumnResult]
    memory: int
    row_hash: NDArray[np.uint64]


def _profile(
    paths: Paths, target: str | None, label_time: Any, progress: Progress | None
) -> dict[str, Any]:
    started = time.perf_counter()
    data = _open(paths, target, label_time)
    names, n_rows = data.names, data.source.num_rows
    total_steps = len(names) + 2
    cols = _scan_columns(data, progress, total_steps)
    col_seconds = time.perf_counter() - started

    t_cols = time.perf_counter()
    duplicates = n_rows - _distinct_rows(cols)
    t_dups = time.perf_counter()
    profiles = [r.profile for r in cols.results]
    _mark_identifiers(profiles, n_rows, duplicates, target)
    _mark_written(profiles, data.source.schema)
    table = _table(data, profiles, duplicates, cols.memory)
    if progress:
        progress("duplicates", len(names) + 1, total_steps)

    corr, target_report = _associations(cols.results, names, target)
    t_corr = time.perf_counter()
    if progress:
        progress("correlations", total_steps, total_steps)

    profile: dict[str, Any] = {
        "version": PROFILE_VERSION,
        "kind": "shipyard.profile",
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "files": data.source.files,
        "label_time": data.when.isoformat() if data.when else None,
        "sample_rows": len(data.sample_idx),
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


def _open(paths: Paths, target: str | None, label_time: Any) -> _Dataset:
    """Open the files, check the target and label time, and draw the row sample.

    Raises:
        NotFound: A missing file, or an unknown ``target`` column.
        InvalidInput: Not Parquet, mismatched schemas, no rows, or a bad ``label_time``.
    """
    source = open_columns(paths)
    files, names = source.files, source.schema.names
    if target is not None:
        require_columns([target], names, role="target")
    when = _label_time(label_time)
    n_rows = source.num_rows
    if n_rows == 0:
        raise InvalidInput(
            f"The dataset has no rows ({len(files)} file(s), columns: {', '.join(names)}). "
            "Profile a version that holds data."
        )
    n_sample = min(n_rows, SAMPLE_ROWS, max(5_000, SAMPLE_CELLS // max(len(names), 1)))
    rng = np.random.default_rng(0)
    sample_idx = np.sort(rng.choice(n_rows, n_sample, replace=False))
    return _Dataset(source, when, sample_idx)


def _scan_columns(data: _Dataset, progress: Progress | None, total_steps: int) -> _Columns:
    """Profile every column on a few threads, folding each into the row hash in order."""
    n_rows, names = data.source.num_rows, data.names
    # Strings are read dictionary-encoded: no per-row string objects, codes come for free.
    strings = {f.name for f in data.source.schema if pa.types.is_string(f.type)}
    cols = _Columns([], 0, np.zeros(n_rows, dtype=np.uint64))
    shift = np.empty(n_rows, dtype=np.uint64)
    workers = min(4, os.cpu_count() or 1, len(names))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(lambda name: _profile_column(data, name, name in strings), names)
        for i, (res, nbytes) in enumerate(results):
            cols.memory += nbytes
            if res.row_key is not None:
                # Fold the column in: xor, multiply by an odd constant, xor-shift. Each step
                # is a bijection, so rows that differ in one column never collide, and the
                # shift carries high bits down so structured values mix as well.
                cols.row_hash ^= res.row_key
                cols.row_hash *= _GOLDEN
                np.right_shift(cols.row_hash, _SHIFT, out=shift)
                cols.row_hash ^= shift
                res.row_key = None  # free it now: only the running hash is kept
            cols.results.append(res)
            if progress:
                progress(f"column {res.profile['name']}", i + 1, total_steps)
    return cols


def _profile_column(
    data: _Dataset, name: str, dictionary: bool
) -> tuple[_columns.ColumnResult, int]:
    """One column's profile and its size in Arrow.

    Raises:
        InvalidInput: Arrow cannot compute on the column (a time zone mismatch, say).
    """
    col = data.source.column(name, dictionary=dictionary)
    when = data.when
    try:
        res = _columns.profile_column(name, col, sample_idx=data.sample_idx, label_time=when)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        hint = (
            f" Give label_time ({when}) with the column's time zone."
            if when is not None and pa.types.is_temporal(col.type)
            else ""
        )
        raise InvalidInput(f"Could not profile column '{name}' ({col.type}): {exc}.{hint}") from exc
    res.profile["physical_type"] = str(data.source.schema.field(name).type)
    return res, col.nbytes


def _mark_identifiers(
    profiles: list[dict[str, Any]], n_rows: int, duplicates: int, target: str | None
) -> None:
    """Tag integer and string columns that are identifiers (``identifier``: why) as id-like,
    counting a duplicated row once: correlations and target associations then leave them
    out, and the alerts say why."""
    for p in profiles:
        kind = p["physical_type"]
        integer_or_string = kind.startswith(("int", "uint")) or p.get("lengths") is not None
        if p["name"] == target or not integer_or_string or p["semantic_type"] == "boolean":
            continue
        if p["semantic_type"] not in ("numeric", "categorical", "id-like"):
            continue
        integer = "min" in p and p.get("lengths") is None
        reason = identifier_reason(
            p["name"],
            distinct=p.get("distinct") or 0,
            rows=min(p["count"], n_rows - duplicates),
            fmt=p.get("format"),
            repeated_rows=duplicates,
            span=(int(p["min"]), int(p["max"])) if integer else None,
        )
        if reason is not None:
            p["identifier"] = reason
            p["semantic_type"] = "id-like"
        elif p["semantic_type"] == "id-like" and integer:
            p["semantic_type"] = "numeric"  # unique, but an amount rather than a key


def _mark_written(profiles: list[dict[str, Any]], schema: pa.Schema) -> None:
    """Record which columns Shipyard itself wrote (a model's scores, say): ``written_by``."""
    written = written_columns(schema)
    for p in profiles:
        if p["name"] in written:
            p["written_by"] = written[p["name"]]


def _distinct_rows(cols: _Columns) -> int:
    """Distinct rows by their hash; the hash is sorted in place, then let go."""
    cols.row_hash.sort()
    distinct = stats.distinct_sorted(cols.row_hash)
    cols.row_hash = np.empty(0, dtype=np.uint64)
    return distinct


def _table(
    data: _Dataset, profiles: list[dict[str, Any]], duplicates: int, memory: int
) -> dict[str, Any]:
    """The table-level summary: size, duplicates, missing cells, semantic types."""
    n_rows, n_cols, files = data.source.num_rows, len(data.names), data.source.files
    semantic_counts: dict[str, int] = {}
    for p in profiles:
        semantic_counts[p["semantic_type"]] = semantic_counts.get(p["semantic_type"], 0) + 1
    missing_cells = sum(p["missing"] for p in profiles)
    return {
        "rows": n_rows,
        "columns": n_cols,
        "files": len(files),
        "duplicate_rows": duplicates,
        "duplicate_rows_pct": 100.0 * duplicates / n_rows,
        "missing_cells": missing_cells,
        "missing_cells_pct": 100.0 * missing_cells / (n_rows * n_cols),
        "memory_bytes": memory,
        "file_bytes": sum(os.path.getsize(f) for f in files),
        "semantic_types": semantic_counts,
    }


def _associations(
    results: list[_columns.ColumnResult], names: list[str], target: str | None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Correlations between the features, and the target report, from the row sample."""
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
    corr = correlations(
        {k: v for k, v in numeric.items() if k != target},
        {k: v for k, v in categorical.items() if k != target},
        ranks=ranks,
    )
    if target is None:
        return corr, None
    tres = results[names.index(target)]
    features: dict[str, tuple[str, Any, Any]] = {
        k: ("numeric", v, ranks.get(k)) for k, v in numeric.items() if k != target
    }
    features |= {k: ("categorical", v, None) for k, v in categorical.items() if k != target}
    other = len(tres.sample_labels) - 1 if tres.sample_labels else None
    return corr, target_analysis(tres.profile, tres.sample, features, other)
