"""Request bodies to input columns in bulk: one ``pyarrow.json`` read per flush.

The server hands the writer the JSON bodies it already holds. Parsing them again one by one
(orjson, then dicts to Arrow) cost the writer thread most of its time and held the GIL the
event loop needs; Arrow's JSON reader parses all of a flush's bodies at once, straight into
columns, without the GIL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

__all__ = ["JsonRows", "inputs_from_json"]

_UTC_US = pa.timestamp("us", tz="UTC")


class JsonRows:
    """A request body that is a JSON object listing its rows (objects) under ``key``.

    ``{"rows": [...]}`` of ``/v1/predict`` or ``{"instances": [...]}`` of ``/invocations``.
    Calling it parses the body (the one-by-one fallback).
    """

    __slots__ = ("body", "key")

    def __init__(self, body: bytes, key: str) -> None:
        self.body = body
        self.key = key

    def __call__(self) -> Sequence[Mapping[str, Any]]:
        rows = orjson.loads(self.body)[self.key]
        return rows if isinstance(rows, list) else []


def inputs_from_json(
    sources: Sequence[JsonRows], counts: np.ndarray, schema: pa.Schema
) -> tuple[pa.Table, pa.Array | None] | None:
    """The input columns of all ``sources``' rows, typed by ``schema``, and the rows' own
    ``request_id`` field (None when no row has one), as :func:`inputs_from_records` gives.

    ``counts`` is the number of rows each source was scored with. None when Arrow's reader
    refuses the bodies (a value of another type than the signature's, such as ``1`` for a
    boolean) or a body's rows do not number its count: the caller then parses them one by one,
    which converts near types.
    """
    from shipyard.capture._rows import typed_column

    own = "request_id" not in schema.names
    fields = [pa.field(f.name, pa.string() if f.type == _UTC_US else f.type) for f in schema]
    row = pa.struct([*fields, pa.field("request_id", pa.string())] if own else fields)
    keys = sorted({s.key for s in sources})
    # Valid JSON has no raw line break inside a string, so breaks between tokens may go.
    data = b"\n".join(s.body.replace(b"\n", b" ") for s in sources)
    try:
        table = pj.read_json(
            pa.BufferReader(data),
            read_options=pj.ReadOptions(use_threads=False, block_size=max(len(data) + 1, 1 << 16)),
            parse_options=pj.ParseOptions(
                explicit_schema=pa.schema([(k, pa.list_(row)) for k in keys]),
                unexpected_field_behavior="ignore",
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    if table.num_rows != len(sources):
        return None
    lists = table.column(keys[0]).combine_chunks()
    if len(keys) > 1:
        second = np.fromiter((s.key == keys[1] for s in sources), bool, len(sources))
        lists = pc.if_else(pa.array(second), table.column(keys[1]).combine_chunks(), lists)
    lengths = pc.list_value_length(lists).fill_null(0).to_numpy(zero_copy_only=False)
    if not np.array_equal(lengths, counts):
        return None
    rows = lists.flatten()
    columns = rows.flatten()
    ids = columns[-1] if own else None
    if ids is not None and ids.null_count == len(ids):
        ids = None
    typed = [typed_column(c, f.type) for c, f in zip(columns, schema, strict=False)]
    return pa.Table.from_arrays(typed, schema=schema), ids
