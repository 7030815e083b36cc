"""Synthetic international-roaming data with fraud, delayed labels and drift, for the demo.

:func:`generate` writes three Parquet tables: ``subscribers`` (one row per SIM),
``usage`` (one row per roaming record) and ``labels`` (one row per confirmed fraudulent
subscriber-day, confirmed 1-10 days late). The last sixth of the period drifts: a new roaming
partner takes traffic, data sessions grow, and a fraud variant appears (Wangiri callbacks)
that the earlier patterns do not cover. Everything is drawn from one seeded NumPy generator
in vectorized passes, so the same seed gives the same bytes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from shipyard.demo import _reference as ref
from shipyard.demo._behaviour import DayFrame, records
from shipyard.demo._patterns import inject
from shipyard.demo._population import Population, benign_days, device_slot, population
from shipyard.errors import InvalidInput

__all__ = ["MIN_DAYS", "MIN_SUBSCRIBERS", "drift_start", "generate"]

MIN_SUBSCRIBERS = 100
MIN_DAYS = 14


def drift_start(start: str = "2026-01-01", days: int = 60) -> date:
    """First day of the drifted period: the last sixth of the days (the last 10 of 60).

    >>> drift_start("2026-01-01", 60)
    datetime.date(2026, 2, 20)
    """
    _check_int("days", days, MIN_DAYS, "drift_start")
    return _parse_start(start, "drift_start") + timedelta(days=_drift_day(days))


def generate(
    out_dir: str | Path,
    *,
    subscribers: int = 20_000,
    days: int = 60,
    seed: int = 0,
    start: str = "2026-01-01",
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Writes subscribers, usage and labels Parquet files into out_dir; returns rows per table.

    Args:
        out_dir: Folder to write into; created if missing, files in it are replaced.
        subscribers: Number of SIMs in the subscriber base (at least 100).
        days: Length of the period in days (at least 14); the last sixth drifts.
        seed: Seed of the generator; the same seed writes the same content.
        start: First day of the period, an ISO date.
        progress: Called with a short status line at each stage.

    Raises:
        InvalidInput: An argument has the wrong type or is out of range.
    """
    _check_int("subscribers", subscribers, MIN_SUBSCRIBERS, "generate")
    _check_int("days", days, MIN_DAYS, "generate")
    _check_int("seed", seed, 0, "generate")
    first_day = _parse_start(start, "generate")
    if not isinstance(out_dir, str | os.PathLike):
        raise InvalidInput(
            f"The 'out_dir' parameter of generate must be a str or a Path. Got {out_dir!r} instead."
        )
    if progress is not None and not callable(progress):
        raise InvalidInput(
            "The 'progress' parameter of generate must be a callable or None. "
            f"Got {progress!r} instead."
        )
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"The 'out_dir' {str(out)!r} is a file; pass a folder instead.")
    say = progress or (lambda _message: None)

    rng = np.random.default_rng(seed)
    drift_day = _drift_day(days)
    say(f"drawing {subscribers:,} subscribers and their trips over {days} days")
    pop = population(subscribers, days, rng)
    benign = benign_days(pop, days, drift_day, rng)
    say("injecting fraud patterns")
    benign, fraud = inject(pop, benign, days, drift_day, rng)
    frame = DayFrame.concat([benign, *fraud])
    say(f"drawing usage records of {len(frame):,} roaming subscriber-days")
    usage = _usage_table(frame, pop, first_day, rng)
    labels = _labels_table(DayFrame.concat(fraud), usage["_key"], pop, days, first_day, rng)
    usage = usage.drop_columns("_key")
    tables = {
        "subscribers": _subscribers_table(pop, first_day),
        "usage": usage,
        "labels": labels,
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        say(f"writing {name}.parquet ({table.num_rows:,} rows)")
        _write(table, out / f"{name}.parquet")
    return {name: table.num_rows for name, table in tables.items()}


def _drift_day(days: int) -> int:
    return days - days // 6


def _check_int(name: str, value: object, minimum: int, caller: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise InvalidInput(
            f"The '{name}' parameter of {caller} must be an integer >= {minimum}. "
            f"Got {value!r} instead."
        )


def _parse_start(start: object, caller: str) -> date:
    try:
        if not isinstance(start, str):
            raise TypeError
        return date.fromisoformat(start)
    except (TypeError, ValueError):
        raise InvalidInput(
            f"The 'start' parameter of {caller} must be an ISO date such as '2026-01-01'. "
            f"Got {start!r} instead."
        ) from None


def _subscriber_ids(n: int) -> pa.Array:
    digits = np.strings.zfill(np.arange(n).astype(np.str_), 7)
    return pa.array(np.strings.add("S", digits))


def _hex_ids(values: np.ndarray) -> pa.Array:
    """16-character lowercase hex strings of 64-bit integers, without a Python loop."""
    octets = values.astype(">u8").view(np.uint8).reshape(-1, 8)
    alphabet = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    chars = np.empty((len(values), 16), dtype=np.uint8)
    chars[:, 0::2], chars[:, 1::2] = alphabet[octets >> 4], alphabet[octets & 15]
    return pa.array(chars.view("S16").ravel().astype(np.str_))


def _strings(codes: np.ndarray, values: tuple[str, ...] | pa.Array) -> pa.Array:
    """Strings looked up by code; a negative code is null."""
    dictionary = values if isinstance(values, pa.Array) else pa.array(values, pa.string())
    return dictionary.take(pa.array(codes, mask=np.asarray(codes) < 0))


def _timestamps(first_day: date, seconds: np.ndarray) -> pa.Array:
    origin = np.datetime64(datetime.combine(first_day, datetime.min.time()), "us")
    return pa.array(origin + seconds.astype("timedelta64[s]"), pa.timestamp("us"))


def _dates(first_day: date, day: np.ndarray) -> pa.Array:
    return pa.array(np.datetime64(first_day, "D") + day.astype("timedelta64[D]"), pa.date32())


def _usage_table(
    frame: DayFrame, pop: Population, first_day: date, rng: np.random.Generator
) -> pa.Table:
    rec = records(frame, pop.home, rng)
    order = np.lexsort((rec.sub, rec.seconds))
    sub = rec.sub[order]
    day = rec.seconds[order] // 86_400
    slot = device_slot(pop, sub, day)
    n = len(pop.home)
    imei = _hex_ids(rng.integers(0, 2**63, size=3 * n, dtype=np.int64))
    models = np.stack([pop.model, pop.new_model, pop.travel_model])
    nulls = {"duration_s": rec.duration_s[order] < 0, "bytes": rec.bytes[order] < 0}
    return pa.table(
        {
            "event_time": _timestamps(first_day, rec.seconds[order]),
            "subscriber_id": _subscriber_ids(n).take(pa.array(sub)),
            "visited_country": _strings(rec.country[order], ref.COUNTRIES),
            "visited_operator": _strings(rec.operator[order], ref.OPERATORS),
            "record_type": _strings(rec.record_type[order], ref.RECORD_TYPES),
            "duration_s": pa.array(rec.duration_s[order], pa.int32(), mask=nulls["duration_s"]),
            "bytes": pa.array(rec.bytes[order], pa.int64(), mask=nulls["bytes"]),
            "destination_country": _strings(rec.destination[order], ref.COUNTRIES),
            "is_premium_destination": pa.array(
                rec.premium[order], pa.bool_(), mask=rec.destination[order] < 0
            ),
            "charge": pa.array(rec.charge[order], pa.float64()),
            "device_imei_hash": imei.take(pa.array(sub + n * slot)),
            "device_model": _strings(models[slot, sub], ref.DEVICE_MODELS),
            "_key": pa.array(sub.astype(np.int64) * (1 << 20) + day),
        }
    )


def _labels_table(
    fraud: DayFrame,
    usage_keys: pa.ChunkedArray,
    pop: Population,
    days: int,
    first_day: date,
    rng: np.random.Generator,
) -> pa.Table:
    """One row per fraudulent subscriber-day that has usage, confirmed 1-10 days later."""
    key = fraud.sub.astype(np.int64) * (1 << 20) + fraud.day
    _, first = np.unique(key, return_index=True)  # one fraud type per subscriber-day
    first = first[np.isin(key[first], usage_keys.to_numpy())]
    sub, day, kind = fraud.sub[first], fraud.day[first], fraud.fraud[first]
    delay = rng.integers(86_400, 11 * 86_400, len(sub))
    return pa.table(
        {
            "subscriber_id": _subscriber_ids(len(pop.home)).take(pa.array(sub)),
            "day": _dates(first_day, day),
            "fraud_type": _strings(kind, ref.FRAUD_TYPES),
            "is_fraud": pa.array(np.ones(len(sub), dtype=np.int8)),
            "confirmed_at": _timestamps(first_day, day.astype(np.int64) * 86_400 + delay),
        }
    )


def _subscribers_table(pop: Population, first_day: date) -> pa.Table:
    return pa.table(
        {
            "subscriber_id": _subscriber_ids(len(pop.home)),
            "home_country": _strings(pop.home, ref.COUNTRIES),
            "plan": _strings(pop.plan, ref.PLANS),
            "activation_date": _dates(first_day, pop.activation),
            "device_model": _strings(pop.model, ref.DEVICE_MODELS),
            "age_band": _strings(pop.age_band, ref.AGE_BANDS),
            "segment": _strings(pop.segment, ref.SEGMENTS),
        }
    )


def _write(table: pa.Table, path: Path) -> None:
    """Writes next to the target, then renames: a crash never leaves half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)
