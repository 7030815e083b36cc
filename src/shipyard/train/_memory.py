"""How much memory a training job will need, estimated before it reads its data, and a
warning when this machine has less available (the wrong-instance-type pitfall).

The estimate adds up, from the dataset version's row count and column types in the catalog:

* the libraries a training process imports (``_BASE``);
* the table as pandas holds it, twice (the frame read, and its labelled copy);
* the encoded matrices (float64; a timestamp becomes four features), with each family's own
  copy of them while it fits (LightGBM's bins, XGBoost's and CatBoost's float32 matrices and
  quantiles, scikit-learn's float32 copy and a linear model's scaled copy);
* for random forest and extra trees, their trees: 300 of them, about one node per four
  training rows each, ~80 bytes a node (more for a noisy target: leaves hold two rows),
  and ~38 more for the single-row copy of a forest of at most a million nodes; a search
  keeps the best model of each family while it fits the next, so both forests' trees count
  once more;
* parallel trials on a Ray started here: one more Python with its own fit per trial.

``benchmarks/train_memory.py`` measures the peak RSS of real jobs against it; on a table of
10 numbers, 2 strings and a boolean it came within -2% to +4% for LightGBM at 100,000 to
1.6 million rows, and +4% / +11% for a random forest at 20,000 / 60,000 rows.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field

from shipyard.catalog.refs import parse_dataset_ref
from shipyard.entities import DatasetVersion
from shipyard.errors import ShipyardWarning
from shipyard.model import FAMILIES, FLAT_FOREST_MAX_NODES, twinned
from shipyard.project import Project
from shipyard.train._spec import TrainSpec

__all__ = ["MemoryEstimate", "available_memory", "estimate_training_memory", "warn_if_too_small"]

_MIB = 2**20
_BASE = 330 * _MIB
"""RSS of a training process before it reads data: Python, pandas, Arrow, DuckDB, the
families' libraries (measured: 300-340 MiB)."""

_WORKER = 300 * _MIB
"""RSS of one more Ray worker process running a trial, before its data."""

_STRING_BYTES = 66
"""A string cell in pandas: an 8-byte pointer and a short Python str (49 bytes + text)."""

_TYPE_BYTES = {
    "BOOLEAN": 1,
    "TINYINT": 1,
    "UTINYINT": 1,
    "SMALLINT": 2,
    "USMALLINT": 2,
    "INTEGER": 4,
    "UINTEGER": 4,
    "FLOAT": 4,
    "DATE": 8,
}
"""Bytes per cell of a column type as pandas holds it; anything else numeric is 8."""

_FIT_COPIES = {
    "lightgbm": 0.5,
    "xgboost": 1.0,
    "catboost": 1.0,
    "random_forest": 0.6,
    "extra_trees": 0.6,
    "linear": 2.0,
}
"""A family's working copies while it fits, as a multiple of the encoded train matrix."""

_FIT_FIXED = {"random_forest": 60 * _MIB, "extra_trees": 60 * _MIB}
"""What a fit holds whatever the data's size (a booster's Dataset, joblib's threads)."""
_FIT_FIXED_DEFAULT = 40 * _MIB

_FOREST_TREES = 300
_NODE_BYTES = 80
_FLAT_NODE_BYTES = 38  # the single-row copy of a forest of at most 1M nodes (_flat_forest)
_NODES_PER_ROW = 0.25
_TRAIN_SHARE = 0.7
_DATETIME_FEATURES = 4


@dataclass(frozen=True)
class MemoryEstimate:
    """A training job's estimated peak memory (bytes), part by part."""

    total: int
    parts: dict[str, int] = field(default_factory=dict)
    parallel_trials: int = 1

    def explain(self) -> str:
        """The parts, largest first: ``"table 1.2 GiB, encoded 0.8 GiB, ..."``."""
        ranked = sorted(self.parts.items(), key=lambda kv: -kv[1])
        return ", ".join(f"{name} {_gib(size)}" for name, size in ranked)


def estimate_training_memory(
    version: DatasetVersion, spec: TrainSpec, target: str, *, parallel_trials: int = 1
) -> MemoryEstimate:
    """The peak memory a training job on ``version`` will need, before it reads it."""
    rows = version.num_rows
    unused = {target, *spec.exclude, *spec.split.used_columns}
    cell_bytes = 0
    features = 0
    for column in version.columns:
        cell_bytes += _cell_bytes(column.type)
        if column.name not in unused:
            features += _DATETIME_FEATURES if _is_time(column.type) else 1
    table = rows * cell_bytes
    encoded = rows * features * 8
    train_matrix = int(_TRAIN_SHARE * encoded)
    search = spec.search
    families = list(search.families or FAMILIES) if search.automl else [search.family]
    fits = {
        f: int(_FIT_COPIES.get(twinned(f), 1.0) * train_matrix)
        + _FIT_FIXED.get(twinned(f), _FIT_FIXED_DEFAULT)
        + _trees(f, rows)
        for f in families
    }
    fit = max(fits.values())
    parts = {"libraries": _BASE, "table (read + labelled copy)": 2 * table, "encoded": encoded}
    if parallel_trials > 1:
        parts[f"{parallel_trials} parallel trials"] = parallel_trials * (_WORKER + fit)
    else:
        parts[f"fit ({max(fits, key=lambda f: fits[f])})"] = fit
    kept = sum(_trees(f, rows) for f in families) if search.automl else 0
    if kept:
        parts["forests kept (the best of each family)"] = kept
    return MemoryEstimate(sum(parts.values()), parts, parallel_trials)


def _cell_bytes(kind: str) -> int:
    kind = kind.upper()
    if kind.startswith(("VARCHAR", "STRING", "TEXT", "ENUM")) or kind in ("BLOB", "UUID"):
        return _STRING_BYTES
    return _TYPE_BYTES.get(kind, 8)


def _is_time(kind: str) -> bool:
    return kind.upper().startswith(("TIMESTAMP", "DATE"))


def _trees(family: str, rows: int) -> int:
    if family not in ("random_forest", "extra_trees"):
        return 0
    nodes = _FOREST_TREES * _NODES_PER_ROW * _TRAIN_SHARE * rows
    flat = _FLAT_NODE_BYTES * nodes if nodes <= FLAT_FOREST_MAX_NODES else 0.0
    return int(nodes * _NODE_BYTES + flat)


def available_memory() -> int:
    """Memory this machine can give a new job now, in bytes (psutil's ``available``)."""
    import psutil

    return int(psutil.virtual_memory().available)


def warn_if_too_small(
    project: Project, dataset: str, target: str, spec: TrainSpec
) -> MemoryEstimate:
    """Estimate a job's memory from the catalog (before its data is read) and warn
    (:class:`ShipyardWarning`) when this machine has less available, with what to do.

    Trials on a Ray this job starts here count once per core; on a cluster, they use the
    cluster's memory, not this machine's.

    Raises:
        NotFound: No such dataset version.
    """
    ref = parse_dataset_ref(dataset)
    version = project.catalog.get_dataset_version(ref.name, ref.version)
    search = spec.search
    local_ray = search.backend == "ray" and not (search.ray_address or project.settings.ray_address)
    parallel = (os.cpu_count() or 1) if local_ray and search.automl else 1
    estimate = estimate_training_memory(version, spec, target, parallel_trials=parallel)
    available = available_memory()
    if estimate.total > available:
        warnings.warn(
            f"Training on {version.ref} ({version.num_rows:,} rows × "
            f"{len(version.columns)} columns) needs about {_gib(estimate.total)} of memory "
            f"({estimate.explain()}); this machine has {_gib(available)} available, so the "
            'job may be killed or swap. Train on a sample (`shipyard sql "SELECT * FROM '
            f'{version.name} USING SAMPLE 10%" --out sample.parquet`, then ingest it), '
            "exclude wide columns (--exclude), leave out random_forest and extra_trees "
            "(--families), give a --time-budget so fewer trees grow, use a machine with more "
            "memory, or --backend ray with SHIPYARD_RAY_ADDRESS set to a cluster.",
            ShipyardWarning,
            stacklevel=3,
        )
    return estimate


def _gib(size: float) -> str:
    if size >= 2**30:
        return f"{size / 2**30:.1f} GiB"
    return f"{math.ceil(size / _MIB):,} MiB"
