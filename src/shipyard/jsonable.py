"""Any value as plain, strict JSON: what ``--json`` prints and the REST API answers with."""

from __future__ import annotations

import base64
import dataclasses
import math
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

__all__ = ["strict_json"]


def strict_json(obj: Any) -> Any:
    """``obj`` as plain JSON values, the one encoding every ``--json`` output uses.

    NaN, infinities and missing values (None, NaT, NA) become null; lists, tuples, sets and
    NumPy arrays become arrays; structs, dicts and dataclasses objects; datetimes, dates and
    times ISO 8601 strings; durations ISO 8601 durations in seconds (``PT90S``) or, for
    month-day-nanosecond intervals, ``P1M2DT3S``; decimals numbers; bytes base64 strings.
    Anything else is shown with ``str``.
    """
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if type(obj).__name__ in ("NaTType", "NAType"):
        return None
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: strict_json(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): strict_json(v) for k, v in obj.items()}
    if isinstance(obj, datetime | date | time):
        return obj.isoformat()
    if isinstance(obj, timedelta):
        return f"PT{obj.total_seconds():g}S"
    if hasattr(obj, "months") and hasattr(obj, "days") and hasattr(obj, "nanoseconds"):
        return f"P{obj.months}M{obj.days}DT{obj.nanoseconds / 1e9:g}S"
    if isinstance(obj, list | tuple | set | frozenset):
        return [strict_json(v) for v in obj]
    if isinstance(obj, Decimal):
        if not obj.is_finite():
            return None
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    if isinstance(obj, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(obj)).decode("ascii")
    if getattr(getattr(obj, "dtype", None), "kind", "") in ("M", "m"):  # NumPy datetime64
        if getattr(obj, "ndim", 0):
            return [strict_json(v) for v in obj]
        return None if obj != obj else str(obj)
    if hasattr(obj, "tolist"):  # NumPy arrays and scalars (incl. datetime64), pandas arrays
        return strict_json(obj.tolist())
    return str(obj)
