"""Load the online store from a group's source and log, in chunks (memory stays flat)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from shipyard.errors import InvalidInput
from shipyard.features._log import log_files
from shipyard.features._plan import Plan
from shipyard.features._push import apply_events
from shipyard.features._resolve import group_plan, to_micros
from shipyard.features._sql import _arrival
from shipyard.features._state import events_of, state_sql
from shipyard.features._store import list_groups
from shipyard.lake import quote_ident

if TYPE_CHECKING:
    import duckdb

    from shipyard.project import Project

__all__ = ["MaterializeReport", "materialize"]

CHUNK_ROWS = 250_000
Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class MaterializeReport:
    """What one group's materialization wrote."""

    group: str
    events: int
    entities: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "events": self.events,
            "entities": self.entities,
            "seconds": round(self.seconds, 3),
        }


def _query(plan: Plan, files: list[str], since_us: int | None) -> str:
    listed = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
    options = "filename=true, file_row_number=true, union_by_name=true"
    keys = ", ".join(quote_ident(k) for k in plan.keys)
    time = f"epoch_us({quote_ident(plan.group.event_time)})"
    nonnull = " AND ".join(
        f"{quote_ident(c)} IS NOT NULL" for c in (*plan.keys, plan.group.event_time)
    )
    # Each entity's newest event by a hash aggregate over the key and time columns only,
    # then a join keeps the events a state holds: cheaper than a window over every row.
    scope = "" if since_us is None else f" HAVING max({time}) >= {int(since_us)}"
    newest = (
        f"SELECT {keys}, max({time}) AS __newest FROM read_parquet({listed}, "
        f"union_by_name=true) WHERE {nonnull} GROUP BY {keys}{scope}"
    )
    joined = f"read_parquet({listed}, {options}) JOIN __newest USING ({keys})"
    events = state_sql(plan, joined, extra=(f"{_arrival(files)} AS __arrival",))
    # Only the events a state keeps: newer than the entity's newest minus the horizon (or,
    # with no aggregate, its latest event for the column features).
    keep = f"{time} > __newest - {plan.horizon_us}" if plan.aggs else f"{time} = __newest"
    return (
        f"WITH __newest AS ({newest}) SELECT * EXCLUDE (__arrival) FROM ({events} AND {keep}) "
        "ORDER BY __key, __t, __arrival"
    )


def _connect(project: Project) -> duckdb.DuckDBPyConnection:
    import duckdb

    spill = project.dir / "tmp" / "duckdb"
    spill.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(
        config={"memory_limit": "512MB", "temp_directory": str(spill), "threads": 2}
    )


def _materialize_group(
    project: Project, plan: Plan, since_us: int | None, progress: Progress | None
) -> MaterializeReport:
    import duckdb

    started = time.perf_counter()
    version = project.catalog.get_dataset_version(plan.group.source)
    files = [*project.lake.files(version), *log_files(project, plan.group.name)]
    if since_us is None:
        project.online.drop(plan.table)
    con = _connect(project)
    events = entities = 0
    # A full rebuild may skip fsyncs until it ends (see OnlineStore.loading): what a power
    # loss in the middle could damage is what running it again rebuilds.
    loading = project.online.loading() if since_us is None else contextlib.nullcontext()
    try:
        with loading:
            reader = con.sql(_query(plan, files, since_us)).to_arrow_reader(CHUNK_ROWS)
            events, entities = _load(project, plan, reader, progress)
    except duckdb.Error as exc:
        raise InvalidInput(
            f"Materializing group '{plan.group.name}' failed: {str(exc).splitlines()[0]}."
        ) from exc
    finally:
        con.close()
    if progress is not None:
        progress(plan.group.name, events)
    return MaterializeReport(plan.group.ref, events, entities, time.perf_counter() - started)


def _load(
    project: Project, plan: Plan, reader: pa.RecordBatchReader, progress: Progress | None
) -> tuple[int, int]:
    """Write the states of the reader's rows (sorted by entity), chunk by chunk."""
    events = entities = 0
    carry: pa.Table | None = None
    for batch in reader:
        chunk = pa.Table.from_batches([batch])
        if carry is not None:
            chunk = pa.concat_tables([carry, chunk])
        # An entity's rows may straddle two batches: keep its last one for the next.
        keys = chunk.column("__key")
        tail = len(chunk) - _tail_length(keys, keys[-1])
        carry, chunk = chunk.slice(tail), chunk.slice(0, tail)
        events, entities = _write(project, plan, chunk, events, entities)
        if progress is not None:
            progress(plan.group.name, events)
    if carry is not None:
        events, entities = _write(project, plan, carry, events, entities)
    return events, entities


def _tail_length(keys: pa.ChunkedArray, last: pa.Scalar) -> int:
    import pyarrow.compute as pc

    return int(pc.sum(pc.equal(keys, last)).as_py() or 0)


def _write(
    project: Project, plan: Plan, chunk: pa.Table, events: int, entities: int
) -> tuple[int, int]:
    if chunk.num_rows == 0:
        return events, entities
    state = events_of(chunk, plan, project.online)
    apply_events(project.online, plan, state, fresh=True)
    return events + chunk.num_rows, entities + len(state.keys)


def materialize(
    project: Project,
    group: str | None = None,
    since: datetime | str | None = None,
    *,
    progress: Progress | None = None,
) -> list[MaterializeReport]:
    """Load the online state of ``group`` (every group when None) from its source and log.

    Without ``since`` each group's state is rebuilt from scratch (readers see it fill up).
    With ``since`` only the entities that have events at or after it are rebuilt, from all
    their events, so running it again is harmless. Memory stays flat whatever the history:
    DuckDB sorts by entity (spilling to ``.shipyard/tmp``) and the state is written chunk by
    chunk. ``progress(group, events_written)`` is called after each chunk.

    Raises:
        NotFound: No such group (with a did-you-mean), or its source dataset is gone.
        BackendUnavailable: The online store cannot be reached.
    """
    since_us = None if since is None else to_micros(since)
    names = [group] if group is not None else [g.name for g in list_groups(project)]
    return [
        _materialize_group(project, group_plan(project, name, fresh=True), since_us, progress)
        for name in names
    ]
