"""Columns Shipyard wrote itself, marked in the Parquet schema so they are known later.

A batch transform appends a model's outputs (scores, decisions, explanations) to the rows it
scored. Fed back as features of the next model, they leak one model's view into the next
and make it depend on a model that may change; so each such column carries the field
metadata ``shipyard.written_by`` (what wrote it, e.g. ``score of fraud:3 (batch
transform)``), kept in every Parquet file of the version. Training leaves these columns out
unless they are asked for by name, and the profile says which they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pyarrow as pa

__all__ = ["WRITTEN_BY", "mark_written", "read_written", "written_columns"]

WRITTEN_BY = b"shipyard.written_by"


def mark_written(table: pa.Table, written: Mapping[str, str]) -> pa.Table:
    """``table`` with each column of ``written`` (name -> what wrote it) marked."""
    fields = []
    for field in table.schema:
        if field.name in written:
            meta = dict(field.metadata or {})
            meta[WRITTEN_BY] = written[field.name].encode()
            field = field.with_metadata(meta)
        fields.append(field)
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


def written_columns(schema: pa.Schema) -> dict[str, str]:
    """The columns of ``schema`` that Shipyard wrote, with what wrote each."""
    out: dict[str, str] = {}
    for field in schema:
        meta = field.metadata or {}
        if WRITTEN_BY in meta:
            out[field.name] = meta[WRITTEN_BY].decode(errors="replace")
    return out


def read_written(files: Sequence[str]) -> dict[str, str]:
    """:func:`written_columns` of a dataset version's files (read from the first footer)."""
    import pyarrow.parquet as pq

    if not files:
        return {}
    return written_columns(pq.read_schema(files[0]))
