"""The bytes of one entity's online state: a fixed head, its records, then variable bytes.

``head | records | var``:

* head: a magic tag, the record count, the entity's newest event time (µs), the time of the
  event its column values come from (µs, or :data:`NO_TIME`), then per column feature a kind
  byte, a validity byte and an 8-byte slot (a float64, an int64, or the length of the
  column's bytes in ``var``);
* records: ``count`` fixed-size records of :mod:`shipyard.features._plan` (time, inputs);
* var: the bytes of the string and other variable-size column values, in column order.

A head is a NumPy structured record, so a batch of states is encoded in one pass and one
state is decoded with a ``struct`` unpack and one ``np.frombuffer``: no JSON per read.
"""

from __future__ import annotations

import struct
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.errors import Conflict

__all__ = ["MAGIC", "NO_TIME", "Columns", "decode_columns", "encode_columns", "head_dtype"]

MAGIC = b"\xffSY2"  # an older state began with its record count: never 0xff in the first byte
NO_TIME = np.iinfo(np.int64).min // 2
PREFIX = struct.Struct("<4sIqq")  # magic, record count, newest time, column time

NULL, FLOAT, INT, BOOL, TIME, STRING, JSON, TIME_TZ = range(8)
_VARIABLE = frozenset({STRING, JSON, TIME_TZ})
_EPOCH = datetime(1970, 1, 1)


@lru_cache(maxsize=64)
def head_dtype(columns: int) -> np.dtype:
    """The head of a state with ``columns`` column features (packed, little-endian)."""
    fields: list[tuple[Any, ...]] = [
        ("magic", "S4"),
        ("n", "<u4"),
        ("newest", "<i8"),
        ("ct", "<i8"),
    ]
    if columns:
        fields += [("kind", "u1", (columns,)), ("valid", "u1", (columns,))]
        fields += [("slot", "<i8", (columns,))]
    return np.dtype(fields)


def _kind(type_: pa.DataType) -> int:
    if pa.types.is_null(type_):
        return NULL
    if pa.types.is_floating(type_):
        return FLOAT
    if pa.types.is_boolean(type_):
        return BOOL
    if pa.types.is_integer(type_):
        return INT
    if pa.types.is_timestamp(type_):
        return TIME if type_.tz is None else TIME_TZ
    if pa.types.is_string(type_) or pa.types.is_large_string(type_):
        return STRING
    return JSON


class Columns:
    """The column values of some events (one per entity) in head form, plus their var bytes."""

    def __init__(self, table: pa.Table) -> None:
        n, count = table.num_rows, table.num_columns
        self.kind = np.zeros((n, count), dtype=np.uint8)
        self.valid = np.zeros((n, count), dtype=np.uint8)
        self.slot = np.zeros((n, count), dtype=np.int64)
        parts: list[list[bytes]] = []
        for i, column in enumerate(table.columns):
            array = column.combine_chunks()
            kind = _kind(array.type)
            self.kind[:, i] = kind
            self.valid[:, i] = array.is_valid().to_numpy(zero_copy_only=False)
            if kind in _VARIABLE:
                blobs = _var_bytes(array, kind)
                parts.append(blobs)
                self.slot[:, i] = [len(b) for b in blobs]
            elif kind != NULL:
                self.slot[:, i] = _slots(array, kind)
        self.var: list[bytes] = [b"".join(p) for p in zip(*parts, strict=True)] if parts else []


def _slots(array: pa.Array, kind: int) -> np.ndarray:
    if kind == FLOAT:
        floats = pc.cast(array, pa.float64()).fill_null(np.nan)
        return floats.to_numpy(zero_copy_only=False).view(np.int64)
    if kind == TIME:
        array = pc.cast(array, pa.timestamp("us"), safe=False)
    ints = pc.cast(array, pa.int64(), safe=False).fill_null(0)
    return ints.to_numpy(zero_copy_only=False)


def _var_bytes(array: pa.Array, kind: int) -> list[bytes]:
    if kind == STRING:
        return [b"" if v is None else v.encode() for v in array.to_pylist()]
    if kind == TIME_TZ:
        return [b"" if v is None else str(v).encode() for v in array.to_pylist()]
    return [b"" if v is None else orjson.dumps(v, default=_json_default) for v in array.to_pylist()]


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    return str(value)


def encode_columns(head: np.ndarray, rows: np.ndarray, columns: Columns) -> None:
    """Write ``columns``' values into ``head[rows]`` (one ``columns`` row per listed row)."""
    head["kind"][rows] = columns.kind
    head["valid"][rows] = columns.valid
    head["slot"][rows] = columns.slot


@lru_cache(maxsize=256)
def _slot_struct(kinds: bytes) -> struct.Struct:
    return struct.Struct("<" + "".join("d" if k == FLOAT else "q" for k in kinds))


def check_magic(blob: bytes, group: str) -> None:
    if blob[:4] != MAGIC:
        raise Conflict(
            f"The online state of group '{group}' was written by an older version of "
            f"Shipyard. Rebuild it with `shipyard features materialize {group}`."
        )


def decode_columns(blob: bytes, columns: int, var_at: int) -> list[Any]:
    """The column values held in ``blob``'s head (``var_at``: where its var bytes begin)."""
    base = PREFIX.size
    kinds = blob[base : base + columns]
    valid = blob[base + columns : base + 2 * columns]
    slots = _slot_struct(kinds).unpack_from(blob, base + 2 * columns)
    out: list[Any] = []
    at = var_at
    for kind, ok, slot in zip(kinds, valid, slots, strict=True):
        if kind in _VARIABLE:
            raw = blob[at : at + slot]
            at += slot
            if not ok:
                out.append(None)
            elif kind == STRING:
                out.append(raw.decode())
            elif kind == TIME_TZ:
                out.append(datetime.fromisoformat(raw.decode()))
            else:
                out.append(orjson.loads(raw))
        elif not ok or kind == NULL:
            out.append(None)
        elif kind == FLOAT:
            out.append(None if slot != slot else slot)  # NaN reads as null, as offline
        elif kind == BOOL:
            out.append(bool(slot))
        elif kind == TIME:
            out.append(_EPOCH + timedelta(microseconds=slot))
        else:
            out.append(slot)
    return out
