"""Per-entity online state: encode a batch of events, merge it into stored state, vectorized.

A state value is laid out by :mod:`shipyard.features._codec`: a fixed head (record count,
newest event time, the latest event's time and column values), the records of
:mod:`shipyard.features._plan`, then the variable-size column bytes.
"""

from __future__ import annotations

import gc
import struct
from dataclasses import dataclass

import duckdb
import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.errors import InvalidInput
from shipyard.features._codec import (
    MAGIC,
    NO_TIME,
    Columns,
    check_magic,
    encode_columns,
    head_dtype,
)
from shipyard.features._plan import Plan
from shipyard.lake import quote_ident
from shipyard.online import OnlineStore

__all__ = ["Events", "Meta", "load_meta", "merge_events", "prepare_events"]

_COUNT = struct.Struct("<I")
_NO_TIME = NO_TIME


@dataclass
class Events:
    """A batch of events in state form, in arrival order."""

    keys: list[str]
    entity: np.ndarray  # index into keys, per event
    t: np.ndarray  # int64 microseconds
    values: np.ndarray  # float64 (n, inputs)
    columns: pa.Table  # the column features' source values

    @property
    def size(self) -> int:
        return len(self.t)


@dataclass(frozen=True)
class Meta:
    """What a reader needs beyond the plan: which inputs hold string codes."""

    string_inputs: frozenset[int]

    def to_bytes(self) -> bytes:
        return orjson.dumps({"strings": sorted(self.string_inputs)})


def meta_table(plan: Plan) -> str:
    return f"{plan.table}#meta"


def load_meta(store: OnlineStore, plan: Plan) -> Meta | None:
    """The stored meta of the group's table (None before its first write)."""
    (raw,) = store.get(meta_table(plan), ["meta"])
    if raw is None:
        return None
    data = orjson.loads(raw)
    return Meta(frozenset(data["strings"]))


def _key_sql(keys: tuple[str, ...]) -> str:
    cast = [f"CAST({quote_ident(k)} AS VARCHAR)" for k in keys]
    return cast[0] if len(cast) == 1 else f"concat_ws(chr(31), {', '.join(cast)})"


def state_sql(plan: Plan, relation: str, extra: tuple[str, ...] = ()) -> str:
    """SQL turning ``relation``'s source rows into ``__key, __t, i0.., c0..`` rows."""
    time = quote_ident(plan.group.event_time)
    parts = [f"{_key_sql(plan.keys)} AS __key", f"epoch_us({time}) AS __t", *extra]
    parts += [f"{sql} AS i{n}" for n, sql in enumerate(plan.inputs)]
    parts += [f"{quote_ident(c)} AS c{n}" for n, c in enumerate(plan.columns)]
    needed = (*plan.keys, plan.group.event_time)
    nonnull = " AND ".join(f"{quote_ident(k)} IS NOT NULL" for k in needed)
    return f"SELECT {', '.join(parts)} FROM {relation} WHERE {nonnull}"


def prepare_events(
    con: duckdb.DuckDBPyConnection, plan: Plan, frame: pa.Table, store: OnlineStore
) -> Events:
    """Evaluate keys, times, inputs (filters included) and columns over ``frame`` in DuckDB."""
    con.register("__batch", frame)
    try:
        rows = con.sql(state_sql(plan, "__batch")).to_arrow_table()
    except duckdb.Error as exc:
        raise InvalidInput(
            f"The events of group '{plan.group.name}' could not be evaluated: "
            f"{str(exc).splitlines()[0]}. Check the filters and the event-time column's type."
        ) from exc
    finally:
        con.unregister("__batch")
    return events_of(rows, plan, store)


def events_of(rows: pa.Table, plan: Plan, store: OnlineStore) -> Events:
    """:class:`Events` from ``__key, __t, i*, c*`` rows (string inputs become codes)."""
    encoded = pc.dictionary_encode(rows.column("__key").combine_chunks())
    n = rows.num_rows
    values = np.empty((n, len(plan.inputs)), dtype=np.float64)
    strings: set[int] = set()
    for i in range(len(plan.inputs)):
        column = rows.column(f"i{i}").combine_chunks()
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            strings.add(i)
            column = _codes(store, plan, column)
        elif pa.types.is_boolean(column.type) or pa.types.is_integer(column.type):
            column = pc.cast(column, pa.float64())
        elif not pa.types.is_floating(column.type) and not pa.types.is_decimal(column.type):
            raise InvalidInput(
                f"Online aggregation input '{plan.inputs[i]}' of group '{plan.group.name}' has "
                f"type {column.type}; online aggregations take numbers, booleans or strings."
            )
        values[:, i] = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
    _save_meta(store, plan, Meta(frozenset(strings)))
    columns = rows.select([f"c{n}" for n in range(len(plan.columns))])
    return Events(
        keys=encoded.dictionary.to_pylist(),
        entity=encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64),
        t=rows.column("__t").to_numpy().astype(np.int64),
        values=values,
        columns=columns,
    )


_SAVED: dict[tuple[str, str], Meta] = {}


def _save_meta(store: OnlineStore, plan: Plan, meta: Meta) -> None:
    if _SAVED.get((store.url, plan.table)) == meta:
        return
    store.put(meta_table(plan), {"meta": meta.to_bytes()})
    _SAVED[(store.url, plan.table)] = meta


def _codes(store: OnlineStore, plan: Plan, column: pa.Array) -> pa.Array:
    uniques = pc.unique(column.drop_null())
    codes = pa.array(store.encode(plan.table, uniques.to_pylist()), pa.float64())
    return pc.take(codes, pc.index_in(column, uniques))


@dataclass
class Merged:
    """The outcome of a merge: new state values and how many events were applied or late."""

    values: list[bytes]
    applied: int
    late: np.ndarray  # bool per event


def _late_mask(events: Events, old_newest: np.ndarray, lateness: int) -> np.ndarray:
    """Events older than the newest event seen before them (stored or earlier in the batch)
    by more than the allowed lateness."""
    if events.size == 0:
        return np.zeros(0, dtype=bool)
    if len(events.keys) == events.size:  # one event per entity (a request): nothing before it
        return events.t < old_newest[events.entity] - lateness
    seen = pd.Series(events.t).groupby(events.entity).cummax()
    before = seen.groupby(events.entity).shift(1).to_numpy(dtype=np.float64, na_value=np.nan)
    prior = np.where(np.isnan(before), _NO_TIME, before).astype(np.int64)
    prior = np.maximum(prior, old_newest[events.entity])
    return events.t < prior - lateness


def merge_events(
    plan: Plan, events: Events, old: list[bytes | None], *, ordered: bool = False
) -> Merged:
    """New state values of ``events.keys`` given their stored ``old`` values.

    ``ordered``: the events come sorted by entity then time and ``old`` is all None (a
    rebuild), so none can be late and the lateness pass is skipped.
    """
    # Hundreds of thousands of small objects per batch, none cyclic: the cyclic collector's
    # passes over them would cost more than the merge itself.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _merge(plan, events, old, ordered)
    finally:
        if enabled:
            gc.enable()


def _merge(plan: Plan, events: Events, old: list[bytes | None], ordered: bool) -> Merged:
    size = plan.dtype.itemsize
    dtype = head_dtype(len(plan.columns))
    head = np.zeros(len(old), dtype=dtype)
    head["magic"], head["newest"], head["ct"] = MAGIC, NO_TIME, NO_TIME
    present, records_old, var = _unpack(plan, dtype, old)
    if present.size:
        head[present] = records_old[0]
    counts = head["n"].astype(np.int64)
    newest = head["newest"].copy()
    if ordered and not present.size:
        late = np.zeros(events.size, dtype=bool)
    else:
        late = _late_mask(events, newest, plan.lateness_us)
    keep_new = ~late
    new = np.empty(int(keep_new.sum()), dtype=plan.dtype)
    new["t"] = events.t[keep_new]
    new["v"] = events.values[keep_new]
    new_entity = events.entity[keep_new]
    np.maximum.at(newest, new_entity, new["t"])
    records = np.concatenate([records_old[1], new])
    entity = np.concatenate([np.repeat(np.arange(len(old)), counts), new_entity])
    order = np.argsort(entity, kind="stable")
    records, entity = records[order], entity[order]
    if plan.aggs:
        keep = records["t"] > newest[entity] - plan.horizon_us
        records, entity = records[keep], entity[keep]
    else:
        records, entity = records[:0], entity[:0]
    counts = np.bincount(entity, minlength=len(old))
    head["n"], head["newest"] = counts, newest
    if plan.columns:
        _latest_columns(events, keep_new, head, var)
    return Merged(_assemble(head, records.tobytes(), counts * size, var), int(keep_new.sum()), late)


def _unpack(
    plan: Plan, dtype: np.dtype, old: list[bytes | None]
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray], list[bytes]]:
    """The stored states in one pass: which are present, their heads, their records (in
    entity order) and each one's var bytes."""
    present = np.array([i for i, blob in enumerate(old) if blob is not None], dtype=np.int64)
    var = [b""] * len(old)
    blobs = [blob for blob in old if blob is not None]
    if not blobs:
        return present, (np.zeros(0, dtype=dtype), np.zeros(0, dtype=plan.dtype)), var
    width, size = dtype.itemsize, plan.dtype.itemsize
    # Slicing each bytes object is cheaper than a byte-level NumPy gather of unaligned parts.
    heads = np.frombuffer(b"".join([blob[:width] for blob in blobs]), dtype=dtype)
    if not (heads["magic"] == MAGIC).all():
        check_magic(next(b for b in blobs if b[:4] != MAGIC), plan.group.name)
    sizes = heads["n"].astype(np.int64) * size
    ends = (sizes + width).tolist()
    data = b"".join([blob[width:end] for blob, end in zip(blobs, ends, strict=True)])
    records = np.frombuffer(data, dtype=plan.dtype)
    lengths = np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs))
    for j in np.flatnonzero(lengths > width + sizes).tolist():
        var[int(present[j])] = blobs[j][width + int(sizes[j]) :]
    return present, (heads, records), var


def _assemble(head: np.ndarray, records: bytes, sizes: np.ndarray, var: list[bytes]) -> list[bytes]:
    """One value per entity: its head, its slice of ``records`` and its var bytes."""
    heads = head.tobytes()
    width = head.dtype.itemsize
    ends = np.cumsum(sizes)
    return [
        heads[i * width : (i + 1) * width] + records[s:e] + v
        for i, s, e, v in zip(
            range(len(var)), (ends - sizes).tolist(), ends.tolist(), var, strict=True
        )
    ]


def _latest_columns(
    events: Events, applied: np.ndarray, head: np.ndarray, var: list[bytes]
) -> None:
    """Each entity's latest event's time and column values into ``head`` and ``var`` (the
    later arrival wins a tie, with the batch or with the stored state)."""
    rows = np.flatnonzero(applied)
    if rows.size == 0:
        return
    order = rows[np.lexsort((rows, events.t[rows], events.entity[rows]))]
    entity = events.entity[order]
    last = order[np.flatnonzero(np.r_[entity[1:] != entity[:-1], True])]
    entity, t = events.entity[last], events.t[last]
    wins = t >= head["ct"][entity]
    last, entity, t = last[wins], entity[wins], t[wins]
    columns = Columns(events.columns.take(pa.array(last)))
    encode_columns(head, entity, columns)
    head["ct"][entity] = t
    if columns.var:
        for e, v in zip(entity.tolist(), columns.var, strict=True):
            var[e] = v
