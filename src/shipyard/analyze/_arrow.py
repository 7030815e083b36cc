"""Arrow <-> NumPy for fixed-width columns, straight from the buffers.

pyarrow's own ``to_numpy``, ``pa.array(ndarray)`` and ``pa.scalar`` import pandas whenever it
is installed (half a second and 50 MB before the first number), although a fixed-width column
is just a values buffer and a validity bitmap (the Arrow columnar format). A profile converts
through these two functions instead, so ``shipyard profile`` never loads pandas.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

__all__ = ["from_numpy", "to_numpy"]

_DTYPES: dict[pa.DataType, np.dtype[Any]] = {
    pa.float64(): np.dtype(np.float64),
    pa.int64(): np.dtype(np.int64),
    pa.int32(): np.dtype(np.int32),
}


def to_numpy(col: pa.ChunkedArray | pa.Array, fill: float | None = None) -> NDArray[Any]:
    """A fresh, writable NumPy copy of a float64 / int64 / int32 column.

    Args:
        col: The column; cast it to one of those types first.
        fill: The value nulls become. Required when the column holds nulls.

    Raises:
        TypeError: Another type, or nulls and no ``fill``.
    """
    dtype = _DTYPES.get(col.type)
    if dtype is None:
        raise TypeError(f"to_numpy reads float64, int64 or int32 columns. Got {col.type}.")
    if col.null_count and fill is None:
        raise TypeError("The column holds nulls: give the value they become (fill).")
    out = np.empty(len(col), dtype=dtype)  # one allocation: page faults cost as much as copies
    pos = 0
    for chunk in col.chunks if isinstance(col, pa.ChunkedArray) else [col]:
        if len(chunk) == 0:
            continue
        validity, data = chunk.buffers()[:2]
        end = chunk.offset + len(chunk)
        part = out[pos : pos + len(chunk)]
        part[:] = np.frombuffer(data, dtype=dtype, count=end)[chunk.offset :]
        if chunk.null_count:
            bits = np.frombuffer(validity, dtype=np.uint8)
            valid = np.unpackbits(bits, count=end, bitorder="little")[chunk.offset :]
            part[~valid.view(bool)] = fill
        pos += len(chunk)
    return out


def from_numpy(values: NDArray[np.int64], type_: pa.DataType) -> pa.Array:
    """An Arrow array of ``type_`` (int64-backed: int64, timestamp, duration) over ``values``."""
    data = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(type_, len(data), [None, pa.py_buffer(data)])
