"""The roaming pipeline's own steps (``shipyard/pipelines/builtin/roaming.yaml``): what the
demo does that no built-in kind does. Each is a plain function with typed arguments and
outputs, as any user step."""

from __future__ import annotations

from typing import TypedDict

from shipyard.errors import IntegrityError
from shipyard.pipelines import Dataset, StepContext

__all__ = ["Generated", "apply_features", "generate", "no_constant_columns", "spine"]


class Generated(TypedDict):
    folder: str
    cutoff: str
    spine_until: str


def generate(
    context: StepContext,
    folder: str,
    subscribers: int = 20_000,
    days: int = 60,
    seed: int = 0,
    start: str = "2026-01-01",
) -> Generated:
    """The synthetic roaming data as Parquet in ``folder`` (relative: to the project): the
    subscribers, the labels, and the usage split at the drift's start into the history
    (``usage_history``) and the records that arrive later (``usage_later``)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from shipyard.demo._watch import MATURITY
    from shipyard.demo.data import drift_start
    from shipyard.demo.data import generate as make

    out = context.project.root / folder
    cutoff = drift_start(start, days)
    make(out, subscribers=subscribers, days=days, seed=seed, start=start)
    usage = pq.read_table(out / "usage.parquet")
    if "_key" in usage.column_names:
        usage = usage.drop_columns(["_key"])
    later = pc.greater_equal(
        usage.column("event_time"), pc.strptime(cutoff.isoformat(), "%Y-%m-%d", "us")
    )
    pq.write_table(usage.filter(pc.invert(later)), out / "usage_history.parquet")
    pq.write_table(usage.filter(later), out / "usage_later.parquet")
    context.log(f"{subscribers:,} subscribers x {days} days in {out}; drift from {cutoff}")
    return {
        "folder": folder,
        "cutoff": cutoff.isoformat(),
        "spine_until": (cutoff - MATURITY).isoformat(),
    }


def apply_features(context: StepContext) -> list:
    """Apply the demo's feature definitions (``shipyard/demo/features.py``); a group gets a
    new version only when its definition changed. Returns the groups' refs."""
    from shipyard.demo.features import roaming_features
    from shipyard.features import apply

    applied = apply(context.project, roaming_features())
    for group in applied.groups:
        context.log(f"feature group {group.ref} ({len(group.definition['features'])} features)")
    return [g.ref for g in applied.groups]


def spine(context: StepContext, until: str, usage: Dataset) -> Dataset:
    """One row per usage record before ``until`` (a uniform sample past the demo's row cap,
    which keeps the base rate), as the training set's spine."""
    from shipyard.demo._build import SPINE_ROWS, spine_share
    from shipyard.demo.features import SPINE_SQL
    from shipyard.ingest import ingest_sql

    sql = SPINE_SQL.format(until=until)
    share = spine_share(context.project, sql)
    if share < 1.0:
        sql = f"SELECT * FROM ({sql}) USING SAMPLE {share * 100:.4f} PERCENT (bernoulli, 0)"
        context.log(f"a uniform {share:.0%} sample of the usage records (at most {SPINE_ROWS:,})")
    made = ingest_sql(context.project, sql, "spine").version
    context.log(f"spine {made.ref} from {usage.ref}: {made.num_rows:,} rows")
    return Dataset(made.ref)


def no_constant_columns(context: StepContext, data: Dataset) -> int:
    """The number of columns of ``data``; stops the run if a column never varies (a feature
    that never varies cannot be learned from).

    Raises:
        IntegrityError: Constant columns, named.
    """
    from shipyard.demo._build import constant_columns

    constant = constant_columns(context.project, data.ref)
    if constant:
        raise IntegrityError(
            f"The training table {data.ref} has constant column(s): {', '.join(constant)}. "
            "Check the feature definitions in shipyard/demo/features.py."
        )
    columns = len(data.version.columns)
    context.log(f"no column of {data.ref} is constant (checked all {columns})")
    return columns
