"""Helpers shared by the pre- and post-training bias reports: facet values and metric entries."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from shipyard._labels import match_value as _match
from shipyard.errors import InvalidInput

__all__ = [
    "MAX_FACET_VALUES",
    "flagged",
    "json_value",
    "match_value",
    "metric_entry",
    "require_groupable",
    "too_few",
]

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
    """The present value equal to ``wanted``, comparing as text when types differ (CLI input)
    and as a boolean for a yes / no word on a column read as booleans."""
    return _match(wanted, present)


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
    reading: str,
    *,
    evidence: dict[str, Any] | None = None,
    judged_by: str | None = None,
) -> dict[str, Any]:
    """One metric of a bias report, with its verdict.

    A metric either carries a test's ``evidence`` (from :mod:`shipyard.analyze._bias_tests`),
    whose status it takes and whose text ends its reading when flagged or too few to judge, or
    is information: ``judged_by`` names the metric whose test covers the same comparison
    (``None`` when nothing is judged, as for CI). A non-finite value is stored as ``None``.
    """
    v = float(value) if value is not None and math.isfinite(value) else None
    status = evidence["status"] if evidence else "info"
    if evidence and status in ("flagged", "too few"):
        reading = f"{reading} {evidence['text'][0].upper()}{evidence['text'][1:]}."
    elif judged_by:
        reading = f"{reading} Information: the same comparison is judged by {judged_by}."
    return {
        "name": name,
        "value": v,
        "range": range_,
        "flag": status == "flagged",
        "status": status,
        "reading": reading,
        "evidence": evidence,
    }


def flagged(report: dict[str, Any]) -> list[tuple[dict[str, Any], str, dict[str, Any]]]:
    """``(group, metric key, metric)`` for every flagged metric of a bias report, in order."""
    return [(g, key, m) for g in report["facets"] for key, m in g["metrics"].items() if m["flag"]]


def too_few(report: dict[str, Any]) -> list[tuple[dict[str, Any], str, dict[str, Any]]]:
    """``(group, metric key, metric)`` for the judged metrics whose group was too small."""
    return [
        (g, key, m)
        for g in report["facets"]
        for key, m in g["metrics"].items()
        if m["status"] == "too few"
    ]
