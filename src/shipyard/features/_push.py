"""Push events to a group: validated, applied to the online state, appended to the offline log."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.errors import InvalidInput, NotFound
from shipyard.features._log import append_log
from shipyard.features._logwriter import EventLogWriter
from shipyard.features._plan import Plan
from shipyard.features._resolve import group_plan
from shipyard.features._state import Events, Merged, merge_events, prepare_events

if TYPE_CHECKING:
    import pandas as pd

    from shipyard.online import OnlineStore
    from shipyard.project import Project

__all__ = ["PushReport", "apply_events", "duck", "push", "source_schema"]

_local = threading.local()


def duck() -> duckdb.DuckDBPyConnection:
    """This thread's in-memory DuckDB connection (reused: connecting costs a millisecond)."""
    con: duckdb.DuckDBPyConnection | None = getattr(_local, "con", None)
    if con is None:
        con = _local.con = duckdb.connect(config={"threads": 1})
    return con


@dataclass
class PushReport:
    """What a push did.

    Attributes:
        group: The group's ``name:version``.
        received: Events given.
        applied: Events applied to the online state.
        late: Events older than their entity's newest event by more than the group's
            allowed lateness: written to the offline log, not applied online.
        logged: Events appended to the offline log.
        late_examples: Up to ten late events as ``(entity key, event time in µs)``.
    """

    group: str
    received: int
    applied: int
    late: int
    logged: int
    late_examples: list[tuple[str, int]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "received": self.received,
            "applied": self.applied,
            "late": self.late,
            "logged": self.logged,
            "late_examples": [list(x) for x in self.late_examples],
        }


def apply_events(store: OnlineStore, plan: Plan, events: Events, *, fresh: bool = False) -> Merged:
    """Merge ``events`` into the stored state of their entities (atomically per call).

    With ``fresh`` the stored state is ignored and overwritten (a rebuild); the events must
    then come sorted by entity, time and arrival, as materialize's query gives them.
    """
    if events.size == 0:
        return Merged([], 0, np.zeros(0, dtype=bool))
    if fresh:
        merged = merge_events(plan, events, [None] * len(events.keys), ordered=True)
        store.put(plan.table, dict(zip(events.keys, merged.values, strict=True)))
        return merged
    result: list[Merged] = []

    def merge(old: list[bytes | None]) -> list[bytes | None]:
        result[:] = [merge_events(plan, events, old)]
        return list(result[0].values)

    store.update(plan.table, events.keys, merge)
    return result[0]


_SCHEMA_SECONDS = 5.0
_schemas: dict[tuple[object, str], tuple[float, pa.Schema]] = {}


def source_schema(project: Project, plan: Plan) -> pa.Schema:
    """The Arrow schema of the group's source dataset (its latest version).

    Looked up again after a few seconds, as plans are: a stream of pushes costs no catalog
    query and no Parquet footer read per batch, and a new source version is picked up soon.
    """
    import pyarrow.parquet as pq

    key = (project.settings.catalog_url or project.root, plan.group.source)
    hit = _schemas.get(key)
    now = time.monotonic()
    if hit is not None and now - hit[0] < _SCHEMA_SECONDS:
        return hit[1]
    version = project.catalog.get_dataset_version(plan.group.source)
    schema = pq.read_schema(project.lake.files(version)[0])
    _schemas[key] = (now, schema)
    return schema


def conform(table: pa.Table, schema: pa.Schema, group: str) -> pa.Table:
    """``table`` with exactly ``schema``'s columns and types, or an error naming the columns."""
    have, want = set(table.column_names), set(schema.names)
    missing = [n for n in schema.names if n not in have]
    extra = [n for n in table.column_names if n not in want]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(repr(n) for n in missing)}")
        if extra:
            parts.append(f"unexpected {', '.join(repr(n) for n in extra)}")
        raise InvalidInput(
            f"The events pushed to group '{group}' do not match its source's columns: "
            f"{'; '.join(parts)}. Expected: {', '.join(schema.names)}.",
            details={"missing": missing, "unexpected": extra},
        )
    columns = []
    for target in schema:
        column = table.column(target.name)
        if column.type != target.type:
            try:
                column = pc.cast(column, target.type, safe=True)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise InvalidInput(
                    f"Column '{target.name}' pushed to group '{group}' has type {column.type}, "
                    f"which does not convert to the source's {target.type}: {exc}.",
                    details={"column": target.name},
                ) from exc
        columns.append(column)
    return pa.table(columns, schema=schema)


def to_arrow(frame: Any) -> pa.Table:
    if isinstance(frame, pa.Table):
        return frame
    if isinstance(frame, pa.RecordBatch):
        return pa.Table.from_batches([frame])
    if hasattr(frame, "columns") and hasattr(frame, "dtypes"):
        return pa.Table.from_pandas(frame, preserve_index=False)
    if isinstance(frame, list):
        return pa.Table.from_pylist(frame)
    raise InvalidInput(
        "The 'frame' parameter of push must be a pandas DataFrame, an Arrow table or a list "
        f"of dicts. Got {type(frame).__name__} instead."
    )


def push(
    project: Project,
    group: str,
    frame: pd.DataFrame | pa.Table | list[Any],
    *,
    log: EventLogWriter | None = None,
) -> PushReport:
    """Apply new events to ``group``'s online state and append them to its offline log.

    With ``log`` (a request path's background writer) the events are queued for the log
    rather than written before returning; ``logged`` then counts the events queued.

    Events within the group's allowed lateness of their entity's newest event are applied,
    out of order or not; later ones are logged offline, counted and reported, not applied.

    Raises:
        NotFound: No such group.
        InvalidInput: The events' columns or types do not match the group's source (the
            message names them); nothing was written.
        BackendUnavailable: The online store cannot be reached.
    """
    plan = group_plan(project, group)
    table = conform(to_arrow(frame), source_schema(project, plan), plan.group.ref)
    return push_table(project, plan, table, log=log)


def push_table(
    project: Project, plan: Plan, table: pa.Table, *, log: EventLogWriter | None = None
) -> PushReport:
    """Push an already conformed table (the stream consumer's path)."""
    events = prepare_events(duck(), plan, table, project.online)
    if log is None:
        logged = append_log(project, plan.group.name, table)
        merged = apply_events(project.online, plan, events)
    else:
        # online first: a request that fails here has queued nothing for the log
        merged = apply_events(project.online, plan, events)
        logged = log.add(plan.group.name, table)
    late_rows = np.flatnonzero(merged.late)
    examples = [(events.keys[int(events.entity[i])], int(events.t[i])) for i in late_rows[:10]]
    return PushReport(
        plan.group.ref, table.num_rows, merged.applied, int(late_rows.size), logged, examples
    )


def read_events(path: str | Path) -> pa.Table:
    """The events in a Parquet, CSV or JSON-lines file.

    Raises:
        NotFound: The file does not exist.
        InvalidInput: The file cannot be read as one of those formats.
    """
    import pyarrow.csv as pcsv
    import pyarrow.json as pjson
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file():
        raise NotFound(f"No file at {path}. Give the path of a Parquet, CSV or JSON-lines file.")
    readers = {".parquet": pq.read_table, ".csv": pcsv.read_csv, ".jsonl": pjson.read_json}
    reader = readers.get(path.suffix.lower(), pjson.read_json if path.suffix == ".json" else None)
    if reader is None:
        raise InvalidInput(
            f"Cannot tell the format of {path.name}: use a .parquet, .csv or .jsonl file."
        )
    try:
        return reader(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(f"Could not read {path}: {exc}.") from exc
