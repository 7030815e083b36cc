"""The online state's bytes: every column kind round-trips; an older state is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pyarrow as pa
import pytest

from shipyard.errors import Conflict
from shipyard.features._codec import (
    MAGIC,
    PREFIX,
    Columns,
    check_magic,
    decode_columns,
    encode_columns,
    head_dtype,
)


def test_column_kinds_round_trip() -> None:
    table = pa.table(
        {
            "f": pa.array([1.5, None, float("nan")]),
            "i": pa.array([7, -(2**62), None], pa.int64()),
            "b": pa.array([True, False, None]),
            "t": pa.array([datetime(2024, 5, 1, 12, 0, 0, 123456), None, datetime(1960, 1, 1)]),
            "z": pa.array(
                [datetime(2024, 5, 1, tzinfo=UTC), None, None], pa.timestamp("us", "UTC")
            ),
            "s": pa.array(["é", None, ""]),
            "d": pa.array([date(2024, 1, 2), None, None]),
            "n": pa.array([None, None, None]),
        }
    )
    columns = Columns(table)
    head = np.zeros(3, dtype=head_dtype(table.num_columns))
    head["magic"] = MAGIC
    encode_columns(head, np.arange(3), columns)
    rows = table.to_pylist()
    for i, row in enumerate(rows):
        blob = head[i : i + 1].tobytes() + columns.var[i]
        got = decode_columns(blob, table.num_columns, head.dtype.itemsize)
        want = list(row.values())
        want[0] = None if want[0] is None or want[0] != want[0] else want[0]  # NaN reads null
        want[6] = None if want[6] is None else want[6].isoformat()
        assert got == want


def test_a_state_of_the_older_format_is_refused_with_the_fix() -> None:
    older = PREFIX.pack(b"\x03\x00\x00\x00", 0, 0, 0)
    with pytest.raises(Conflict, match="features materialize usage"):
        check_magic(older, "usage")
