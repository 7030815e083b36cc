"""Randomized usage events, a group over them, and a brute-force reading of its features."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shipyard.features import Aggregate, Column, Derived, Entity, FeatureGroup, FeatureSet, apply
from shipyard.ingest import ingest_path
from shipyard.project import Project

START = datetime(2024, 5, 1)
ENTITY = Entity("subscriber", ("subscriber_id",))


def make_events(rng: np.random.Generator, n: int = 600, entities: int = 12) -> pd.DataFrame:
    """Events over 3 days at whole seconds, with ties, nulls, strings and booleans."""
    seconds = rng.integers(0, 3 * 86_400, n)
    seconds[: n // 10] = seconds[n // 10 : 2 * (n // 10)]  # equal timestamps
    amount = rng.gamma(2.0, 10.0, n).round(2)
    amount[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "subscriber_id": rng.choice([f"S{i:03d}" for i in range(entities)], n),
            "ts": [START + timedelta(seconds=int(s)) for s in seconds],
            "amount": amount,
            "kind": rng.choice(["voice", "sms", "data", "roam"], n),
            "premium": rng.random(n) < 0.3,
        }
    )


def usage_group(ttl: str | None = "12h", lateness: str = "2h") -> FeatureGroup:
    return FeatureGroup(
        name="usage",
        entity="subscriber",
        source="usage",
        event_time="ts",
        ttl=ttl,
        allowed_lateness=lateness,
        features=(
            Column("amount", name="last_amount"),
            Column("kind", name="last_kind"),
            Aggregate("count", window="1h"),
            Aggregate("count", window="24h", filter="premium", name="premium_24h"),
            Aggregate("sum", "amount", "1h"),
            Aggregate("mean", "amount", "24h"),
            Aggregate("min", "amount", "6h"),
            Aggregate("max", "amount", "24h", filter="kind = 'roam'", name="max_roam_24h"),
            Aggregate("count_distinct", "kind", "6h"),
            Aggregate("last", "amount", "6h"),
            Aggregate("stddev", "amount", "24h"),
            Aggregate("min", "kind", "24h"),
            Aggregate("last", "kind", "1h"),
            Aggregate("count", "amount", "6h"),
            Derived("ratio", "sum_amount_1h / nullif(mean_amount_24h, 0)"),
        ),
    )


def setup(project: Project, events: pd.DataFrame, group: FeatureGroup | None = None) -> Path:
    path = project.root / "usage.parquet"
    events.to_parquet(path, index=False)
    ingest_path(project, path, "usage")
    apply(project, FeatureSet((ENTITY,), (group or usage_group(),)))
    return path


def _agg(function: str, values: pd.Series, times: pd.Series) -> Any:
    if function == "count":
        return int(values.notna().sum())
    valid = values[values.notna()]
    if function == "count_distinct":
        return int(valid.nunique())
    if valid.empty:
        return None
    if function == "last":
        t = times[valid.index]
        return valid[t[t == t.max()].index[-1]]
    if function == "stddev":
        return float(valid.std(ddof=1)) if len(valid) > 1 else None
    return {"sum": valid.sum, "mean": valid.mean, "min": valid.min, "max": valid.max}[function]()


def brute(events: pd.DataFrame, group: FeatureGroup, key: str, at: datetime) -> dict[str, Any]:
    """The group's features for one entity at ``at``, straight from the definition."""
    mine = events[events["subscriber_id"] == key].reset_index(drop=True)
    out: dict[str, Any] = {}
    for agg in group.aggregates:
        low = at - timedelta(seconds=agg.window_seconds)
        window = mine[(mine["ts"] > low) & (mine["ts"] <= at)]
        if agg.filter == "premium":
            window = window[window["premium"]]
        elif agg.filter == "kind = 'roam'":
            window = window[window["kind"] == "roam"]
        values = window[agg.column] if agg.column else pd.Series(1, index=window.index)
        out[agg.name] = _agg(agg.function, values, window["ts"])
    past = mine[mine["ts"] <= at]
    latest = past[past["ts"] == past["ts"].max()].tail(1) if len(past) else past
    fresh = len(latest) and (
        group.ttl is None or (at - latest["ts"].iloc[0]).total_seconds() < group.ttl
    )
    for column in group.columns:
        value = latest[column.column].iloc[0] if fresh else None
        out[column.name] = None if isinstance(value, float) and math.isnan(value) else value
    total, mean = out.get("sum_amount_1h"), out.get("mean_amount_24h")
    out["ratio"] = None if total is None or not mean else total / mean
    return out


def close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
