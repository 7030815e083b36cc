"""The feature encoder compiled into every model: the same code scores training and serving.

It turns a frame or a list of JSON rows into one float matrix: numbers as they are,
booleans as 0/1, strings as category codes (unseen and missing become NaN, which the
boosters treat as missing), datetimes as hour / day-of-week / month / day-of-month. The
input signature it records is what the inference server validates requests against.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from shipyard.errors import InvalidInput

__all__ = ["ColumnSpec", "Encoded", "FeatureEncoder", "is_text_timestamps", "keyed_hash"]

_MAX_LEVELS = 1000
_ID_NAME = re.compile(r"(^|_)(id|uuid|key)$", re.IGNORECASE)
_ID_LIKE_RATIO = 0.5
_DATETIME_PARTS = ("hour", "dayofweek", "month", "day")
_PART_ATTRIBUTES = {"dayofweek": "day_of_week"}
_SMALL = 64  # below this many rows, a dict lookup beats building a pandas Categorical


@dataclass(frozen=True)
class ColumnSpec:
    """One input column: its name, its kind, and for strings the known levels."""

    name: str
    kind: str  # number | boolean | string | datetime
    levels: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.kind}
        if self.kind == "string":
            out["levels"] = len(self.levels)
        return out


@dataclass
class Encoded:
    """An encoded batch: the matrix, and per string column how many values were unseen."""

    matrix: np.ndarray
    unseen: dict[str, int] = field(default_factory=dict)


class FeatureEncoder:
    """Learns the input signature and category levels from training data; encodes batches.

    Follows the scikit-learn estimator contract: ``__init__`` stores arguments, ``fit``
    learns attributes ending in ``_`` and returns ``self``.

    Args:
        exclude: Columns never used as features (the target, ids, the split's time column).
        max_levels: Most category levels kept per string column; rarer ones count as unseen.
        hashed: Column -> hex HMAC-SHA256 key: the column's values are replaced by their
            keyed hash (16 hex characters) before anything else, in training and in serving
            alike, so personal data never reaches the model, its levels or its bundle.
    """

    def __init__(
        self,
        exclude: Sequence[str] = (),
        max_levels: int = _MAX_LEVELS,
        hashed: Mapping[str, str] | None = None,
    ) -> None:
        self.exclude = tuple(exclude)
        self.max_levels = max_levels
        self.hashed = dict(hashed or {})

    def fit(self, frame: pd.DataFrame) -> FeatureEncoder:
        specs: list[ColumnSpec] = []
        dropped: dict[str, str] = {}
        for name in frame.columns:
            if name in self.exclude:
                continue
            col = frame[name]
            if name in self.hashed:
                col = pd.Series(keyed_hash(col, self.hashed[name]), name=name, dtype=object)
            kind = _kind_of(col)
            if kind is None:
                dropped[name] = f"unsupported type {col.dtype}"
                continue
            if kind == "string":
                counts = col.value_counts(dropna=True)
                if len(counts) > 50 and (
                    len(counts) > _ID_LIKE_RATIO * max(len(col), 1) or _ID_NAME.search(name)
                ):
                    dropped[name] = f"id-like ({len(counts)} distinct values in {len(col)} rows)"
                    continue
                levels = tuple(str(v) for v in counts.index[: self.max_levels])
                specs.append(ColumnSpec(name, kind, levels))
            else:
                specs.append(ColumnSpec(name, kind))
        if not specs:
            raise InvalidInput(
                "No usable feature columns are left after excluding "
                f"{', '.join(self.exclude) or 'nothing'} and dropping {', '.join(dropped)}."
            )
        self.columns_ = tuple(specs)
        self.dropped_ = dropped
        self.feature_names_ = _feature_names(self.columns_)
        self.categorical_indices_ = [
            i
            for i, n in enumerate(self.feature_names_)
            if n in {s.name for s in specs if s.kind == "string"}
        ]
        self._lookups = {
            s.name: {v: i for i, v in enumerate(s.levels)} for s in specs if s.kind == "string"
        }
        return self

    def fit_encode(self, frame: pd.DataFrame) -> Encoded:
        """Fit on ``frame`` and encode it (what a training job does with its train part)."""
        return self.fit(frame).encode_frame(frame)

    @property
    def signature(self) -> dict[str, Any]:
        """The input signature: the columns a request must carry and their types."""
        return {"inputs": [s.to_json() for s in self.columns_]}

    def encode_frame(self, frame: pd.DataFrame) -> Encoded:
        """Encode a DataFrame (vectorized). Raises InvalidInput for missing or mistyped columns."""
        missing = [s.name for s in self.columns_ if s.name not in frame.columns]
        if missing:
            raise InvalidInput(
                f"Missing column(s) {', '.join(repr(m) for m in missing)}; the model expects "
                f"{', '.join(s.name for s in self.columns_)}.",
                details={"missing": missing},
            )
        return self._encode({s.name: frame[s.name] for s in self.columns_}, len(frame))

    def encode_records(self, records: Sequence[Mapping[str, Any]]) -> Encoded:
        """Encode JSON rows (a list of objects). Raises InvalidInput naming the bad column."""
        if not records:
            raise InvalidInput("The request has no rows.")
        names = [s.name for s in self.columns_]
        for i, record in enumerate(records):
            if not isinstance(record, Mapping):
                raise InvalidInput(f"Row {i} is not a JSON object of column values.")
            if len(record) < len(names) or any(n not in record for n in names):
                missing = [n for n in names if n not in record]
                if missing:
                    raise InvalidInput(
                        f"Row {i} is missing column(s) {', '.join(repr(m) for m in missing)}. "
                        f"The model expects: {', '.join(names)}.",
                        details={"row": i, "missing": missing},
                    )
        return self._encode({n: [r[n] for r in records] for n in names}, len(records))

    def encode_columns(self, columns: Mapping[str, Any], rows: int) -> Encoded:
        """Encode a batch given column by column: each input column's ``rows`` values as a
        list or a 1-D NumPy array (numeric and boolean arrays are taken as they are, without
        a look at each value). Extra columns are ignored.

        Raises:
            InvalidInput: A column is missing, has another number of values than ``rows``,
                or holds values of the wrong type (the message names the column).
        """
        names = [s.name for s in self.columns_]
        missing = [n for n in names if n not in columns]
        if missing:
            raise InvalidInput(
                f"Missing column(s) {', '.join(repr(m) for m in missing)}; the model expects "
                f"{', '.join(names)}.",
                details={"missing": missing},
            )
        for name in names:
            if len(columns[name]) != rows:
                raise InvalidInput(
                    f"Column '{name}' has {len(columns[name])} values; every column must have "
                    f"one per row ({rows}).",
                    details={"column": name, "values": len(columns[name]), "rows": rows},
                )
        return self._encode({n: columns[n] for n in names}, rows)

    def _encode(self, columns: Mapping[str, Any], rows: int) -> Encoded:
        width = len(self.feature_names_)
        matrix = np.empty((rows, width), dtype=np.float64)
        unseen: dict[str, int] = {}
        j = 0
        hashed = getattr(self, "hashed", {})  # bundles made before hashing existed lack it
        for spec in self.columns_:
            raw = columns[spec.name]
            if spec.name in hashed:
                raw = keyed_hash(raw, hashed[spec.name])
            if spec.kind == "number":
                matrix[:, j] = _as_float(raw, spec.name)
                j += 1
            elif spec.kind == "boolean":
                matrix[:, j] = _as_bool(raw, spec.name)
                j += 1
            elif spec.kind == "string":
                codes, n_unseen = _as_codes(raw, self._lookups[spec.name], spec.name)
                matrix[:, j] = codes
                if n_unseen:
                    unseen[spec.name] = n_unseen
                j += 1
            else:
                parts = _datetime_parts(raw, spec.name)
                matrix[:, j : j + len(parts)] = parts.T
                j += len(parts)
        return Encoded(matrix, unseen)


def keyed_hash(raw: Any, key: str) -> np.ndarray:
    """HMAC-SHA256 of each value's text under ``key`` (hex), first 16 hex characters; missing
    values stay missing. One HMAC per distinct value, not per row."""
    codes, uniques = pd.factorize(pd.Series(raw, dtype=object), use_na_sentinel=True)
    secret = bytes.fromhex(key)
    digests = [hmac.new(secret, str(u).encode(), hashlib.sha256).hexdigest()[:16] for u in uniques]
    table = np.array([*digests, None], dtype=object)
    return table[codes]  # code -1 (missing) picks the trailing None


_ISO_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?"
)
_TIMESTAMP_SAMPLE = 200


def is_text_timestamps(col: pd.Series) -> bool:
    """Whether a column of strings holds ISO-8601 dates or timestamps (every value), as a
    file or frame that kept them as text does (Parquet, pandas; DuckDB's CSV sniffer types
    them itself). Such a column is a date, not an identifier or a category. Its first 200
    values are checked first, so most columns are turned down without a full pass."""
    if pd.api.types.is_datetime64_any_dtype(col.dtype) or pd.api.types.is_numeric_dtype(col.dtype):
        return False
    values = col.dropna()
    sample = values.head(_TIMESTAMP_SAMPLE).tolist()
    if not sample or not all(
        isinstance(v, str) and _ISO_TIMESTAMP.fullmatch(v) is not None for v in sample
    ):
        return False
    distinct = pd.Series(pd.unique(values.astype(str).to_numpy()), dtype=object)
    if not distinct.str.fullmatch(_ISO_TIMESTAMP.pattern).all():
        return False
    try:  # as encoding will parse them: real dates (not 1234-56-78), one way with zones
        return bool(_parse_iso(distinct).notna().all())
    except (ValueError, TypeError):
        return False


def _kind_of(col: pd.Series) -> str | None:
    dtype = col.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype):
        return "datetime" if is_text_timestamps(col) else "string"
    if dtype is np.dtype(object):
        sample = col.dropna().head(100)
        if all(isinstance(v, str) for v in sample):
            return "datetime" if is_text_timestamps(col) else "string"
    return None


def _feature_names(specs: Sequence[ColumnSpec]) -> list[str]:
    names: list[str] = []
    for s in specs:
        if s.kind == "datetime":
            names.extend(f"{s.name}__{p}" for p in _DATETIME_PARTS)
        else:
            names.append(s.name)
    return names


def _type_error(column: str, expected: str, values: Any, test: Any) -> InvalidInput:
    for i, v in enumerate(values):
        if v is not None and not test(v):
            return InvalidInput(
                # The value's type, never the value: a row may hold personal data.
                f"Column '{column}' expects {expected}; row {i} has a {type(v).__name__}.",
                details={"column": column, "row": i, "expected": expected},
            )
    return InvalidInput(f"Column '{column}' expects {expected}.", details={"column": column})


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | np.number) and not isinstance(v, bool)


def _as_float(raw: Any, column: str) -> np.ndarray:
    if isinstance(raw, np.ndarray) and raw.dtype.kind in "fiu":
        return raw.astype(np.float64, copy=False)
    if isinstance(raw, pd.Series):
        if pd.api.types.is_numeric_dtype(raw.dtype) or pd.api.types.is_bool_dtype(raw.dtype):
            return raw.to_numpy(dtype=np.float64, na_value=np.nan)
        raw = raw.tolist()
    values = list(raw)
    if not all(v is None or _is_number(v) for v in values):
        raise _type_error(column, "a number", values, _is_number)
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _as_bool(raw: Any, column: str) -> np.ndarray:
    if isinstance(raw, np.ndarray) and raw.dtype == np.bool_:
        return raw.astype(np.float64)
    if isinstance(raw, pd.Series) and pd.api.types.is_bool_dtype(raw.dtype):
        return raw.to_numpy(dtype=np.float64, na_value=np.nan)
    values = raw.tolist() if isinstance(raw, pd.Series) else list(raw)
    if not all(v is None or isinstance(v, bool | np.bool_) for v in values):
        raise _type_error(column, "true or false", values, lambda v: isinstance(v, bool))
    return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)


def _as_codes(raw: Any, lookup: dict[str, int], column: str) -> tuple[np.ndarray, int]:
    if isinstance(raw, pd.Series) and len(raw) > _SMALL:
        levels = list(lookup)
        present = raw.notna().to_numpy()
        # get_indexer, not pd.Categorical: pandas 3 deprecates (and will refuse) values
        # outside the categories, which unseen categories are.
        codes = pd.Index(levels, dtype="string").get_indexer(pd.Index(raw.astype("string")))
        codes = codes.astype(np.float64)
        known = codes >= 0
        codes[~known] = np.nan
        return codes, int((present & ~known).sum())
    values = raw.tolist() if isinstance(raw, pd.Series) else list(raw)
    if not all(v is None or isinstance(v, str) for v in values if not _is_nan(v)):
        raise _type_error(column, "a string", values, lambda v: isinstance(v, str) or _is_nan(v))
    out = np.empty(len(values), dtype=np.float64)
    unseen = 0
    for i, v in enumerate(values):
        if v is None or _is_nan(v):
            out[i] = np.nan
            continue
        code = lookup.get(v)
        if code is None:
            unseen += 1
            out[i] = np.nan
        else:
            out[i] = code
    return out, unseen


def _is_nan(v: Any) -> bool:
    return isinstance(v, float) and v != v


def _parse_iso(raw: Any) -> pd.DatetimeIndex:
    """ISO-8601 text (or timestamps) as timestamps; raises ValueError or TypeError."""
    return pd.DatetimeIndex(pd.to_datetime(pd.Series(raw), utc=False, format="ISO8601"))


def _datetime_parts(raw: Any, column: str) -> np.ndarray:
    try:
        stamps = _parse_iso(raw)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(
            f"Column '{column}' expects ISO-8601 timestamps (e.g. 2026-01-31T22:15:00): {exc}",
            details={"column": column},
        ) from exc
    # "dayofweek" names the feature in bundles; pandas now calls the attribute day_of_week.
    attributes = [_PART_ATTRIBUTES.get(p, p) for p in _DATETIME_PARTS]
    parts = np.vstack([np.asarray(getattr(stamps, a), dtype=np.float64) for a in attributes])
    parts[:, np.asarray(stamps.isna())] = np.nan
    return parts
