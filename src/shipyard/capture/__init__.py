"""Data capture: the rows a model scored, as hourly Parquet files in the artifact store.

The inference server and batch transform write captures through :class:`CaptureWriter`;
monitors read a window of them with :func:`capture_relation`, and ``shipyard sql`` sees
each model's captures as the view ``capture_<model>``.
"""

from __future__ import annotations

from shipyard.capture._bulk import JsonRows
from shipyard.capture._layout import (
    CAPTURES_PREFIX,
    capture_globs,
    capture_key,
    capture_models,
    capture_relation,
)
from shipyard.capture._pii import PII_POLICIES, CapturePrivacy, capture_privacy
from shipyard.capture._schema import BASE_FIELDS, capture_schema, input_schema, masked_columns
from shipyard.capture._writer import CaptureStats, CaptureWriter, RowSource, is_sampled

__all__ = [
    "BASE_FIELDS",
    "CAPTURES_PREFIX",
    "PII_POLICIES",
    "CapturePrivacy",
    "CaptureStats",
    "CaptureWriter",
    "JsonRows",
    "RowSource",
    "capture_globs",
    "capture_key",
    "capture_models",
    "capture_privacy",
    "capture_relation",
    "capture_schema",
    "input_schema",
    "is_sampled",
    "masked_columns",
]
