"""The roaming pipeline's own steps (``shipyard/pipelines/builtin/roaming.yaml``): what the
demo does that no built-in kind does. Each is a plain function with typed arguments and
outputs, as any user step."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypedDict

from shipyard.errors import IntegrityError, InvalidInput
from shipyard.lake import quote_ident
from shipyard.pipelines import Dataset, StepContext

__all__ = [
    "Arrived",
    "Generated",
    "Window",
    "apply_features",
    "arrive",
    "generate",
    "no_constant_columns",
    "recent_window",
    "spine",
]


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


class Arrived(TypedDict):
    usage: Dataset
    known_by: str
    spine_until: str


def arrive(
    context: StepContext, known_by: str, cutoff: str, usage: Dataset, later: Dataset
) -> Arrived:
    """The data and the label cut-off a training sees. With no ``known_by`` (the first
    training): the history, the labels confirmed by the drift's start (``cutoff``). With
    ``known_by`` (a retraining): a new version of ``usage``, the history plus the later
    records that arrived before ``known_by``, and the labels confirmed by then. Either way
    the spine ends :data:`~shipyard.demo._watch.MATURITY` before the label cut-off, so a row
    with no fraud confirmed by then is clean, not just unconfirmed yet.

    Raises:
        InvalidInput: ``known_by`` is not an ISO date or time, or is before ``cutoff``.
    """
    from shipyard.demo._watch import MATURITY
    from shipyard.ingest import ingest_sql

    if not known_by.strip():
        at = datetime.fromisoformat(cutoff)
        return {"usage": usage, "known_by": at.isoformat(),
                "spine_until": (at - MATURITY).isoformat()}  # fmt: skip
    at = _parse_known_by(known_by, cutoff)
    sql = (
        f"SELECT * FROM {quote_ident(usage.ref)} UNION ALL BY NAME "
        f"SELECT * FROM {quote_ident(later.ref)} "
        f"WHERE event_time < TIMESTAMP '{at:%Y-%m-%d %H:%M:%S}' ORDER BY event_time, subscriber_id"
    )
    made = ingest_sql(context.project, sql, usage.version.name).version
    context.log(
        f"{made.ref}: {usage.ref} and the records of {later.ref} before {at:%Y-%m-%d %H:%M} "
        f"({made.num_rows - usage.version.num_rows:,} of {later.version.num_rows:,}); labels "
        f"confirmed by then, spine until {at - MATURITY:%Y-%m-%d %H:%M}"
    )
    return {"usage": Dataset(made.ref), "known_by": at.isoformat(),
            "spine_until": (at - MATURITY).isoformat()}  # fmt: skip


def _parse_known_by(known_by: str, cutoff: str) -> datetime:
    try:
        at = datetime.fromisoformat(known_by.strip())
    except ValueError:
        raise InvalidInput(
            f"The 'known_by' parameter must be an ISO date or time such as 2026-03-13 or "
            f"2026-03-13T06:00. Got {known_by!r} instead."
        ) from None
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)  # the records' times are naive UTC
    if at < datetime.fromisoformat(cutoff):
        raise InvalidInput(
            f"The 'known_by' parameter ({known_by}) is before the drift's start ({cutoff}): a "
            "retraining sees at least the history. Give a time on or after it, or none."
        )
    return at


class Window(TypedDict):
    dataset: Dataset
    holdout: Dataset
    window: dict[str, Any]


def recent_window(context: StepContext, data: Dataset, days: int) -> Window:
    """The most recent ``days`` days of the labelled rows of ``data`` are held out: the
    candidate and the champion are compared there, as that is what matters after a drift.
    Returns ``data`` with a ``part`` column for train's ``column`` split (``test`` in the
    window, ``valid`` the ``days`` days before it, ``train`` the earlier rows: by time, as
    rows of one subscriber-day are alike) and the window's rows alone (the ``holdout``).

    Raises:
        InvalidInput: ``days`` is below 1, or the window holds no fraud, or no row is
            left to train on.
    """
    from shipyard.features import inherit_lineage
    from shipyard.ingest import ingest_sql

    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise InvalidInput(f"The 'holdout' parameter must be a number of days >= 1. Got {days!r}.")
    table = quote_ident(data.ref)
    start, rows, frauds, before = _window(context, table, days)
    if start is None or not frauds or not before:
        raise InvalidInput(
            f"The last {days} day(s) of {data.ref} ({rows:,} rows, {frauds:,} fraud) cannot be "
            f"the holdout: it needs fraud in it, and rows before it and the {days} day(s) of "
            "validation. Change the 'holdout' days."
        )
    at = f"TIMESTAMP '{start:%Y-%m-%d %H:%M:%S}'"
    valid = f"{at} - INTERVAL {days} DAY"
    parts = ingest_sql(
        context.project,
        f"SELECT *, CASE WHEN event_time >= {at} THEN 'test' WHEN event_time >= {valid} "
        f"THEN 'valid' ELSE 'train' END AS part FROM {table}",
        f"{data.version.name}_parts",
    ).version
    inherit_lineage(context.project, data.ref, parts.ref)  # served from the same groups
    held = ingest_sql(
        context.project, f"SELECT * FROM {table} WHERE event_time >= {at}", "recent_window"
    ).version
    window = {"since": f"{start:%Y-%m-%d}", "days": days, "rows": rows, "fraud": frauds}
    context.log(
        f"holdout {held.ref}: the last {days} day(s) of {data.ref}, from {start:%Y-%m-%d}, "
        f"{rows:,} rows ({frauds:,} fraud); {parts.ref} marks them test, the {days} day(s) "
        "before valid"
    )
    return {"dataset": Dataset(parts.ref), "holdout": Dataset(held.ref), "window": window}


def _window(context: StepContext, table: str, days: int) -> tuple[Any, int, int, int]:
    """The window's first day, its rows and frauds, and the rows before its validation."""
    from shipyard.lake import connect_views

    con = connect_views(context.project.catalog, context.project.lake)
    try:
        row = con.execute(
            f"SELECT CAST(max(CAST(event_time AS DATE)) - INTERVAL {days - 1} DAY AS TIMESTAMP) "
            f"FROM {table}"
        ).fetchone()
        start = row[0] if row else None
        counts = con.execute(
            f"SELECT count(*) FILTER (WHERE event_time >= $1), "
            f"count(*) FILTER (WHERE event_time >= $1 AND is_fraud = 1), "
            f"count(*) FILTER (WHERE event_time < $1 - INTERVAL {days} DAY) FROM {table}",
            [start],
        ).fetchone()
    finally:
        con.close()
    rows, frauds, before = counts or (0, 0, 0)
    return start, int(rows), int(frauds), int(before)


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

    sql = SPINE_SQL.format(until=until, usage=quote_ident(usage.ref))
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
