"""Turning what was scored into captured rows: Arrow columns built in bulk, not row by row."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.capture._schema import BASE_FIELDS

__all__ = [
    "assemble",
    "inputs_from_arrow",
    "inputs_from_records",
    "request_ids",
    "typed_column",
]

log = logging.getLogger("shipyard.capture")


def inputs_from_records(
    rows: Sequence[Mapping[str, Any]], schema: pa.Schema
) -> tuple[pa.Table, pa.Array | None]:
    """The input columns of JSON rows, typed by ``schema``, and the rows' own ``request_id``
    field (None when no row has one).

    A value of the wrong type (a request the model accepted, such as ``1`` for a boolean)
    is converted when it can be and stored as null when it cannot.
    """
    wanted = [f for f in schema if f.type != pa.timestamp("us", tz="UTC")]
    parse_first = pa.schema(
        [
            *wanted,
            *(pa.field(f.name, pa.string()) for f in schema if f not in wanted),
            pa.field("request_id", pa.string()),
        ]
    )
    try:
        table = pa.Table.from_pylist(list(rows), schema=parse_first)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        table = _slow_columns(rows, parse_first)
    ids = table.column("request_id") if "request_id" not in schema.names else None
    if ids is not None and ids.null_count == len(ids):
        ids = None
    columns = [typed_column(table.column(f.name), f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema), ids


def inputs_from_arrow(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """The input columns of an Arrow table (batch transform), cast to ``schema``."""
    columns = [typed_column(table.column(f.name), f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def assemble(
    *,
    request_ids: pa.Array,
    captured_us: np.ndarray,
    model: str,
    version: int,
    variant: str | None,
    latency_ms: np.ndarray,
    scores: np.ndarray,
    labels: np.ndarray | None,
    inputs: pa.Table,
    masked: Sequence[str] = (),
    hashed: Mapping[str, str] | None = None,
) -> pa.Table:
    """One table of captured rows: the fixed columns, then ``inputs`` (``masked`` nulled,
    ``hashed`` replaced by the keyed hash of their values as text, under the column's key).

    ``scores`` is 1-D, or 2-D (class probabilities) for multiclass; ``labels`` the class
    labels (any type; stored as text), or None for regression.
    """
    n = inputs.num_rows
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim == 2:  # multiclass: the probability of the class chosen
        scores = scores.max(axis=1)
    if labels is None:
        prediction = pa.nulls(n, pa.string())
    else:
        prediction = pc.cast(pa.array(labels, from_pandas=True), pa.string())
    fixed = [
        request_ids,
        pa.array(captured_us, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        pa.repeat(pa.scalar(model, pa.string()), n),
        pa.repeat(pa.scalar(version, pa.int64()), n),
        pa.repeat(pa.scalar(variant, pa.string()), n),
        pa.array(latency_ms, pa.float64()),
        pa.array(scores, pa.float64()),
        prediction,
    ]
    hashed = hashed or {}
    fields, columns = [], []
    for i, field in enumerate(inputs.schema):
        if field.name in hashed:
            fields.append(pa.field(field.name, pa.string()))
            columns.append(_hashed(inputs.column(i), hashed[field.name]))
        else:
            fields.append(field)
            columns.append(pa.nulls(n, field.type) if field.name in masked else inputs.column(i))
    return pa.Table.from_arrays([*fixed, *columns], schema=pa.schema([*BASE_FIELDS, *fields]))


def _hashed(column: pa.ChunkedArray, key: str) -> pa.Array:
    """Training's ``--hash-pii`` hash of each value (one HMAC per distinct value)."""
    from shipyard.model.encoder import keyed_hash

    values = column.to_numpy(zero_copy_only=False)
    return pa.array(keyed_hash(values, key), pa.string(), from_pandas=True)


def request_ids(ids: Sequence[str], counts: np.ndarray, own: pa.Array | None) -> pa.Array:
    """One id per row: a request's id, suffixed ``-<i>`` when it has several rows; a row's
    own ``request_id`` field wins."""
    index = np.repeat(np.arange(len(ids)), counts)
    repeated = pa.array(ids, pa.string()).take(pa.array(index))
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    within = pc.cast(pa.array(np.arange(len(index)) - starts), pa.string())
    suffixed = pc.binary_join_element_wise(repeated, within, "-")
    out = pc.if_else(pa.array(np.repeat(counts > 1, counts)), suffixed, repeated)
    return out if own is None else pc.coalesce(own, out)


def typed_column(column: pa.ChunkedArray | pa.Array, kind: pa.DataType) -> pa.Array:
    """``column`` as ``kind``: cast when it can be, else stored as null (and logged)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if array.type == kind:
        return array
    if kind == pa.timestamp("us", tz="UTC"):
        return _timestamps(array)
    try:
        return pc.cast(array, kind)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        try:
            return pc.cast(array, kind, safe=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            log.warning(
                "Captured a column of %s that is not %s; stored it as null.", array.type, kind
            )
            return pa.nulls(len(array), kind)


def _timestamps(array: pa.Array) -> pa.Array:
    """Datetimes (ISO text or timestamps; naive ones read as UTC) as timestamp[us, UTC]."""
    import pandas as pd

    if pa.types.is_timestamp(array.type):
        if array.type.tz is None:
            array = pc.assume_timezone(array, "UTC")
        return pc.cast(array, pa.timestamp("us", tz="UTC"))
    text = pd.Series(pc.cast(array, pa.string()).to_pandas(), dtype=object)
    stamps = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
    return pa.array(stamps, pa.timestamp("us", tz="UTC"), from_pandas=True)


def _slow_columns(rows: Sequence[Mapping[str, Any]], schema: pa.Schema) -> pa.Table:
    """Column by column, for rows whose values Arrow would not convert in one go (rare: the
    model accepted them, so they are close to the signature's types)."""
    arrays = []
    for field in schema:
        values = [row.get(field.name) if isinstance(row, Mapping) else None for row in rows]
        try:
            arrays.append(pa.array(values, field.type, from_pandas=True))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            try:
                arrays.append(typed_column(pa.array(values, from_pandas=True), field.type))
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
                arrays.append(pa.array([None if v is None else str(v) for v in values]))
                arrays[-1] = typed_column(arrays[-1], field.type)
    return pa.Table.from_arrays(
        arrays, schema=pa.schema([(f.name, a.type) for f, a in zip(schema, arrays, strict=True)])
    )
