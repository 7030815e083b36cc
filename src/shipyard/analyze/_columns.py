"""Profile one column from its Arrow array: semantic type and the statistics that fit it.

Numbers come from vectorized NumPy over the Arrow buffers and from Arrow compute kernels
(value counts, string lengths); nothing loops over rows in Python.

Semantic types:
    numeric      int / float / decimal columns
    boolean      bool, or integers holding only 0 and 1
    datetime     timestamp / date columns
    categorical  strings (or dictionaries) with repeated values
    text         strings that are long (mean length >= 40) and mostly distinct
    id-like      integers or strings with a distinct value on (almost, 95%) every row, 50+ rows;
                 the profile refines it with the whole table in view (identifiers by name,
                 format and duplicated rows, see :mod:`shipyard.analyze._identifiers`)
    other        nested or binary columns: only count and missing are reported
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from shipyard.analyze import stats
from shipyard.analyze._arrow import from_numpy, to_numpy
from shipyard.analyze._identifiers import FORMAT_VALUES, value_format

__all__ = ["ColumnResult", "profile_column"]

HISTOGRAM_BINS = 30
TOP_VALUES = 10
ID_MIN_ROWS = 50
ID_MIN_UNIQUE = 0.95  # share of distinct values (an id column may hold a few duplicated rows)
TEXT_MIN_MEAN_LENGTH = 40
MAX_LEVELS = 50  # categorical columns with at most this many values list them all ("levels")
SAMPLE_LEVELS = 30  # categorical levels kept in the row sample; the rest become "other"


@dataclass
class ColumnResult:
    """A column's profile plus what the table-level steps need from it.

    Attributes:
        profile: The JSON-able column profile.
        row_key: A uint64 per row that is equal exactly when the values are (nulls alike),
            folded into the row hash that counts duplicate rows.
        sample: The sampled rows as float (numeric, NaN for null) or int codes (categorical,
            -1 for null), or None when the column takes no part in correlations.
        sample_labels: Level names for categorical sample codes.
        sample_rank: Average ranks of a numeric sample (NaN for null), for Spearman and AUC.
        after_label_time: Rows whose datetime is later than ``label_time``.
    """

    profile: dict[str, Any]
    row_key: NDArray[np.uint64] | None = None
    sample: NDArray[Any] | None = None
    sample_labels: list[str] = field(default_factory=list)
    sample_rank: NDArray[np.float64] | None = None
    after_label_time: int = 0


def _id_like(distinct: int, count: int) -> bool:
    return count >= ID_MIN_ROWS and distinct >= ID_MIN_UNIQUE * count


def _json_value(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, bytes):
        return v.hex()
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def _f(x: Any) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _finite(x: NDArray[np.float64]) -> NDArray[np.float64]:
    x[~np.isfinite(x)] = np.nan  # correlations treat infinities as missing
    return x


def _float_key(x: NDArray[np.float64]) -> NDArray[np.uint64]:
    # The bits of each value; nulls were filled with one NaN, so they compare alike.
    return x.view(np.uint64)


def _moments(s: NDArray[np.float64]) -> tuple[float, float | None, float]:
    """Mean, sample standard deviation (None past the largest float) and skewness.

    Values beyond 1e100 are scaled by a power of two (exact) first, so sums of squares of
    numbers up to 1e308 do not overflow.
    """
    n = s.size
    peak = max(-float(s[0]), float(s[-1]))
    scale = 2.0 ** -math.frexp(peak)[1] if peak > 1e100 else 1.0
    u = s * scale if scale != 1.0 else s
    mean = float(u.sum() / n)
    d = u - mean
    d2 = d * d
    m2 = float(d2.sum() / n)
    std = math.sqrt(m2 * n / (n - 1)) / scale if n > 1 else 0.0
    skew = float(np.dot(d2, d) / n) / m2**1.5 if m2 > 0 else 0.0
    return mean / scale, _f(std), skew


def _numeric(col: pa.ChunkedArray, prof: dict[str, Any]) -> NDArray[np.float64]:
    x = to_numpy(pc.cast(col, pa.float64()), math.nan)
    # One sort gives min/max, distinct, exact quantiles, histogram and outliers by search.
    # NaN (nulls included) sorts last, after +inf: the finite values are one slice.
    s = np.sort(x)
    end = int(np.searchsorted(s, np.nan, "left"))
    lo, hi = np.searchsorted(s[:end], -np.inf, "right"), np.searchsorted(s[:end], np.inf, "left")
    # NaN, -inf and +inf are values too (not nulls): each counts once among the distinct.
    extra = int(lo > 0) + int(hi < end) + int(s.size - end > prof["missing"])
    s = s[lo:hi]
    prof["non_finite"] = int(prof["count"] - s.size)  # NaN or infinite, not null
    if s.size == 0:
        prof["distinct"] = extra
        return x
    prof["distinct"] = stats.distinct_sorted(s) + extra
    mean, std, skew = _moments(s)
    q = stats.quantiles(s, is_sorted=True)
    counts, edges = stats.sorted_histogram(s, HISTOGRAM_BINS)
    zeros = int(np.searchsorted(s, 0.0, "right") - np.searchsorted(s, 0.0, "left"))
    prof.update(
        min=float(s[0]),
        max=float(s[-1]),
        mean=mean,
        std=std,
        skewness=skew,
        quantiles=q,
        zeros=zeros,
        zeros_pct=100.0 * zeros / prof["rows"],
        outliers=stats.iqr_outliers(s, q["p25"], q["p75"], is_sorted=True),
        histogram={"edges": edges.tolist(), "counts": counts.tolist()},
    )
    logged = stats.log_histogram(s, HISTOGRAM_BINS, skewness=skew)
    if logged is not None:
        prof["log_histogram"] = {"edges": logged[1].tolist(), "counts": logged[0].tolist()}
    if prof["distinct"] <= TOP_VALUES * 2:
        uniq, freq = np.unique(s, return_counts=True)
        order = np.argsort(-freq, kind="stable")[:TOP_VALUES]
        prof["top_values"] = [
            {
                "value": _json_value(float(uniq[i])),
                "count": int(freq[i]),
                "pct": float(100.0 * freq[i] / prof["rows"]),
            }
            for i in order
        ]
    return x


def _strings(col: pa.ChunkedArray, prof: dict[str, Any]) -> tuple[NDArray[np.int64], pa.Array]:
    """Profile a string column; returns its dictionary codes (-1 for null) and dictionary."""
    if pa.types.is_dictionary(col.type) and col.num_chunks:
        # Read dictionary-encoded from Parquet: one shared dictionary, then only the indices.
        col = col.unify_dictionaries()
        dictionary = col.chunk(0).dictionary
        indices = pa.chunked_array([c.indices for c in col.chunks])
    else:
        enc = pc.dictionary_encode(col.combine_chunks() if col.num_chunks > 1 else col)
        enc = enc.chunk(0) if isinstance(enc, pa.ChunkedArray) else enc
        dictionary, indices = enc.dictionary, enc.indices
    codes = to_numpy(pc.cast(indices, pa.int64()), -1)
    freq = np.bincount(codes[codes >= 0] if prof["missing"] else codes, minlength=len(dictionary))
    prof["distinct"] = int(np.count_nonzero(freq))
    if prof["distinct"] <= MAX_LEVELS:
        present = np.flatnonzero(freq)  # at most MAX_LEVELS
        prof["levels"] = sorted(_json_value(dictionary[int(i)].as_py()) for i in present)
    order = np.argsort(-freq, kind="stable")[:TOP_VALUES]
    prof["top_values"] = [
        {
            "value": _json_value(dictionary[int(i)].as_py()),
            "count": int(freq[i]),
            "pct": float(100.0 * freq[i] / prof["rows"]),
        }
        for i in order
        if freq[i]
    ]
    if pa.types.is_string(dictionary.type) or pa.types.is_large_string(dictionary.type):
        used_codes = np.flatnonzero(freq)[:FORMAT_VALUES].astype(np.int64)
        shown = dictionary.take(from_numpy(used_codes, pa.int64())).to_pylist()
        fmt = value_format(shown)
        if fmt is not None:
            prof["format"] = fmt
        dict_len = pc.utf8_length(dictionary)
    else:
        dict_len = pc.binary_length(dictionary)
    used = freq > 0
    dl = to_numpy(pc.cast(dict_len, pa.int64())).astype(np.float64)[used]
    freq = freq[used]
    if dl.size and prof["count"]:
        # Lengths per distinct value, weighted by how often each occurs: no per-row strings.
        lc, le = np.histogram(dl, bins=HISTOGRAM_BINS, weights=freq)
        if dl.max() == dl.min():
            lc, le = np.array([prof["count"]]), np.array([dl.min(), dl.max()])
        prof["lengths"] = {
            "min": float(dl.min()),
            "mean": float(np.dot(dl, freq) / prof["count"]),
            "max": float(dl.max()),
            "histogram": {"edges": le.tolist(), "counts": lc.astype(np.int64).tolist()},
        }
        prof["empty"] = int(freq[dl == 0].sum())
    return codes, dictionary


def _datetime(col: pa.ChunkedArray, prof: dict[str, Any], label_time: Any) -> tuple[Any, int]:
    unit_type = pa.timestamp("us", tz=getattr(col.type, "tz", None))
    ts = col.cast(unit_type) if not pa.types.is_timestamp(col.type) else col
    ints = pc.cast(ts, pa.int64())
    x = to_numpy(pc.drop_null(ints))
    after = 0
    if x.size == 0:
        prof["distinct"] = 0
        return ints, after
    x = np.sort(x)
    prof["distinct"] = stats.distinct_sorted(x)
    lo, hi = int(x[0]), int(x[-1])
    scalar_type = ts.type
    lo_hi = from_numpy(np.array([lo, hi]), scalar_type).to_pylist()
    prof["min"], prof["max"] = _json_value(lo_hi[0]), _json_value(lo_hi[1])
    counts, edges = stats.sorted_histogram(x.astype(np.float64), HISTOGRAM_BINS)
    edge_ts = from_numpy(np.round(edges).astype(np.int64), scalar_type)
    prof["histogram"] = {
        "edges": [_json_value(e) for e in edge_ts.to_pylist()],
        "counts": counts.tolist(),
    }
    if label_time is not None:
        limit = pc.cast(pa.scalar(label_time).cast(scalar_type), pa.int64()).as_py()
        after = int(x.size - np.searchsorted(x, limit, "right"))
        prof["after_label_time"] = after
    return ints, after


def profile_column(
    name: str,
    col: pa.ChunkedArray,
    *,
    sample_idx: NDArray[np.int64],
    label_time: Any = None,
) -> ColumnResult:
    """Profile column ``name`` (all its rows in ``col``) and hash it for the duplicate count."""
    rows = len(col)
    missing = col.null_count
    count = rows - missing
    prof: dict[str, Any] = {
        "name": name,
        "physical_type": str(col.type),
        "rows": rows,
        "count": count,
        "missing": missing,
        "missing_pct": 100.0 * missing / rows if rows else 0.0,
    }
    typ = col.type
    res = ColumnResult(prof)
    if pa.types.is_boolean(typ):
        prof["semantic_type"] = "boolean"
        as_int = pc.cast(col, pa.int8())
        x = to_numpy(pc.cast(as_int, pa.float64()), math.nan)
        true = int(pc.sum(as_int).as_py() or 0)
        prof["distinct"] = int(true > 0) + int(count - true > 0)
        prof["top_values"] = [
            {"value": v, "count": c, "pct": 100.0 * c / rows}
            for v, c in sorted([(True, true), (False, count - true)], key=lambda t: -t[1])
            if c
        ]
        prof["true_pct"] = 100.0 * true / count if count else None
        res.row_key = _float_key(x)
        res.sample = x[sample_idx]
    elif pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ):
        x = _numeric(col, prof)
        is_int = pa.types.is_integer(typ)
        if is_int and "min" in prof:
            prof["min"], prof["max"] = int(prof["min"]), int(prof["max"])
            for top in prof.get("top_values", []):
                top["value"] = int(top["value"])
        if is_int and prof["distinct"] <= 2 and prof.get("min", 0) >= 0 and prof.get("max", 0) <= 1:
            prof["semantic_type"] = "boolean"
        elif is_int and _id_like(prof["distinct"], count):
            prof["semantic_type"] = "id-like"
        else:
            prof["semantic_type"] = "numeric"
        res.row_key = _float_key(x)
        # Kept for every integer column: whether a unique one is a key or an amount is
        # decided with the whole table in view (see profile._mark_identifiers).
        res.sample = _finite(x[sample_idx])
    elif pa.types.is_timestamp(typ) or pa.types.is_date(typ):
        prof["semantic_type"] = "datetime"
        ints, res.after_label_time = _datetime(col, prof, label_time)
        res.row_key = to_numpy(ints, np.iinfo(np.int64).min).view(np.uint64)
    elif (
        pa.types.is_string(typ)
        or pa.types.is_large_string(typ)
        or pa.types.is_binary(typ)
        or pa.types.is_large_binary(typ)
        or pa.types.is_dictionary(typ)
    ):
        codes, dictionary = _strings(col, prof)
        mean_len = prof.get("lengths", {}).get("mean", 0.0)
        if _id_like(prof["distinct"], count) and mean_len < TEXT_MIN_MEAN_LENGTH:
            prof["semantic_type"] = "id-like"
        elif mean_len >= TEXT_MIN_MEAN_LENGTH and prof["distinct"] > 0.5 * count:
            prof["semantic_type"] = "text"
        else:
            prof["semantic_type"] = "categorical"
        res.row_key = codes.view(np.uint64)
        if prof["semantic_type"] == "categorical":
            res.sample, res.sample_labels = _sample_codes(codes[sample_idx], dictionary, prof)
    else:
        prof["semantic_type"] = "other"
        prof["distinct"] = None
    if res.sample is not None and res.sample.dtype.kind == "f":
        res.sample_rank = stats.rank(res.sample)
    return res


def _sample_codes(
    codes: NDArray[np.int64], dictionary: pa.Array, prof: dict[str, Any]
) -> tuple[NDArray[np.int64], list[str]]:
    """Sampled codes with the SAMPLE_LEVELS most frequent levels kept, others merged."""
    freq = np.bincount(codes[codes >= 0], minlength=len(dictionary))
    top = np.argsort(-freq, kind="stable")[:SAMPLE_LEVELS]
    keep = [str(dictionary[int(i)].as_py()) for i in top]
    remap = np.full(len(dictionary) + 1, len(keep), dtype=np.int64)
    remap[top] = np.arange(len(top))
    out = remap[codes]  # a null code (-1) maps to the last slot: "other / missing"
    return out, [*keep, "(other)"]
