"""The demo's data and training table: generate, ingest, apply the feature definitions, and
build the training set through the feature store (labels known by the training cut-off)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.demo.data import generate
from shipyard.demo.features import PROFILE_SQL, SPINE_SQL, roaming_features
from shipyard.errors import IntegrityError

if TYPE_CHECKING:
    from rich.console import Console

    from shipyard.project import Project

__all__ = ["FEATURES", "TrainingTable", "build_training_table", "constant_columns", "load_data"]

FEATURES = ("subscriber_profile", "roaming_usage")
"""The groups the model is trained on and scored from."""
SPINE_ROWS = 300_000
"""Most training rows: past it the spine is a uniform sample of the usage records, so the
45-second AutoML budget on 2 cores still leaves time to search."""


@dataclass(frozen=True)
class TrainingTable:
    """The training set's dataset version and how its labels were found."""

    ref: str
    rows: int
    columns: int
    labels_used: int
    labels_unknown: int
    seconds: float


def load_data(
    project: Project,
    raw: Path,
    cutoff: str,
    out: Console,
    *,
    subscribers: int,
    days: int,
    seed: int,
    start: str,
) -> dict[str, int]:
    """Generate the roaming data and ingest it: the usage before ``cutoff`` is the history
    the feature store starts from (``usage``); the later records (``usage_later``) arrive
    as a stream."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from shipyard.ingest import ingest_path, ingest_sql

    generate(raw, subscribers=subscribers, days=days, seed=seed, start=start)
    usage = pq.read_table(raw / "usage.parquet")
    if "_key" in usage.column_names:
        usage = usage.drop_columns(["_key"])
    later = pc.greater_equal(usage.column("event_time"), pc.strptime(cutoff, "%Y-%m-%d", "us"))
    pq.write_table(usage.filter(pc.invert(later)), raw / "usage_history.parquet")
    pq.write_table(usage.filter(later), raw / "usage_later.parquet")
    rows: dict[str, int] = {}
    for name, file in (
        ("subscribers", "subscribers"),
        ("usage", "usage_history"),
        ("usage_later", "usage_later"),
        ("labels", "labels"),
    ):
        version = ingest_path(project, raw / f"{file}.parquet", name).version
        rows[version.ref] = version.num_rows
        out.print(f"  ingested {version.ref}: {version.num_rows:,} rows")
    profiles = ingest_sql(project, PROFILE_SQL, "subscriber_profiles").version
    rows[profiles.ref] = profiles.num_rows
    return rows


def build_training_table(
    project: Project, spine_until: str, known_by: str, out: Console
) -> TrainingTable:
    """Apply the demo's feature definitions and build ``training`` from a spine of one row
    per usage record before ``spine_until``, with the labels confirmed by ``known_by``
    (others 0).

    Raises:
        IntegrityError: A column of the training table holds a single value.
    """
    import time

    from shipyard.features import apply, training_set
    from shipyard.ingest import ingest_sql

    applied = apply(project, roaming_features())
    for group in applied.groups:
        count = len(group.definition["features"])
        out.print(f"  applied feature group {group.name}:{group.version} ({count} features)")
    sql = SPINE_SQL.format(until=spine_until)
    share = _spine_share(project, sql)
    if share < 1.0:  # a uniform sample keeps the base rate, so calibration still holds
        sql = f"SELECT * FROM ({sql}) USING SAMPLE {share * 100:.4f} PERCENT (bernoulli, 0)"
        out.print(
            f"  spine: a uniform {share:.0%} sample of the usage records (at most {SPINE_ROWS:,})"
        )
    spine = ingest_sql(project, sql, "spine").version
    started = time.perf_counter()
    made = training_set(
        project,
        spine=spine.ref,
        entity="subscriber_id",
        time="event_time",
        features=list(FEATURES),
        name="training",
        labels="labels",
        label="is_fraud",
        label_join=["subscriber_id", "day"],
        labels_known_by=known_by,
        label_default=0,
    )
    seconds = time.perf_counter() - started
    columns = len(made.version.columns)
    constant = constant_columns(project, made.version.ref)
    if constant:
        raise IntegrityError(
            f"The training table {made.version.ref} has constant column(s): "
            f"{', '.join(constant)}. A feature that never varies cannot be learned from; "
            "check the feature definitions in shipyard/demo/features.py."
        )
    return TrainingTable(
        made.version.ref, made.rows, columns, made.labels_used, made.labels_unknown, seconds
    )


def _spine_share(project: Project, sql: str) -> float:
    from shipyard.lake import connect_views

    con = connect_views(project.catalog, project.lake)
    try:
        row = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()
    finally:
        con.close()
    count = int(row[0]) if row else 0
    return min(1.0, SPINE_ROWS / count) if count else 1.0


def constant_columns(project: Project, dataset: str) -> list[str]:
    """The columns of ``dataset`` that hold at most one distinct value (nulls included)."""
    from shipyard.lake import connect_views, quote_ident

    con = connect_views(project.catalog, project.lake)
    try:
        table = quote_ident(dataset.split("@")[0])
        names = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
        counts = ", ".join(
            f"count(DISTINCT {quote_ident(n)}) + (count(*) > count({quote_ident(n)}))::INT"
            for n in names
        )
        row = con.execute(f"SELECT {counts} FROM {table}").fetchone()
    finally:
        con.close()
    return [n for n, c in zip(names, row or (), strict=True) if c <= 1]
