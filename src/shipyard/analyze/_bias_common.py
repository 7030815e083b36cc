"""Helpers shared by the pre- and post-training bias reports: facet values and metric entries."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from shipyard.errors import InvalidInput

__all__ = ["MAX_FACET_VALUES", "json_value", "match_value", "metric_entry", "require_groupable"]

# Facet values reported by default (the most frequent first); a facet with more is an ID, not
# a group.
MAX_FACET_VALUES = 50


def require_groupable(column: str, dtype: pa.DataType, *, role: str) -> None:
    """Refuse a facet, label or group column whose values cannot form groups (nested types).

    Raises:
        InvalidInput: ``dtype`` is a list, struct, map or union type.
    """
    if pa.types.is_nested(dtype):
        raise InvalidInput(
            f"The {role} column '{column}' has type {dtype}, whose values (lists, records or "
            "maps) cannot form groups. Bias metrics need a column of single values: text, "
            "numbers, booleans or dates. Pick another column, or ingest a flat copy with "
            f'`shipyard ingest --sql "SELECT *, {column}.<field> AS {column}_<field> FROM ..."`.',
            details={"column": column, "type": str(dtype)},
        )


def match_value(wanted: Any, present: Sequence[Any]) -> Any:
    """The present value equal to ``wanted``, comparing as text when types differ (CLI input)."""
    for v in present:
        if v == wanted:
            return v
    for v in present:
        if str(v) == str(wanted):
            return v
    return None


def json_value(v: Any) -> Any:
    """A facet or label value as JSON can hold it: NumPy scalars unwrapped, dates as ISO text."""
    if isinstance(v, np.generic):
        v = v.item()
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def metric_entry(
    name: str,
    value: float | None,
    range_: str,
    limit: float,
    reading: str,
    *,
    flag: bool | None = None,
) -> dict[str, Any]:
    """One metric of a bias report; flagged when ``|value| >= limit`` unless ``flag`` is given.

    A non-finite value is stored as ``None`` (undefined), which is never flagged by default.
    """
    v = float(value) if value is not None and math.isfinite(value) else None
    return {
        "name": name,
        "value": v,
        "range": range_,
        "limit": limit,
        "flag": bool(v is not None and abs(v) >= limit) if flag is None else bool(flag),
        "reading": reading,
    }
