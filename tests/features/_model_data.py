"""A model trained end to end on a feature-store training set over generated usage events."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from shipyard.features import (
    Aggregate,
    Column,
    Derived,
    Entity,
    FeatureGroup,
    FeatureSet,
    apply,
    materialize,
    training_set,
)
from shipyard.ingest import ingest_path
from shipyard.project import Project
from shipyard.train import train

START = datetime(2024, 5, 1)
ENTITY = Entity("subscriber", ("subscriber_id",))


def usage_events(n: int = 3000, entities: int = 60, seed: int = 0) -> pd.DataFrame:
    """Usage records over 4 days; busy subscribers roam more and are flagged more."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"S{i:06d}" for i in range(entities)])
    weight = rng.gamma(1.0, 1.0, entities)
    who = rng.choice(entities, n, p=weight / weight.sum())
    seconds = np.sort(rng.integers(0, 4 * 86_400, n))
    amount = rng.gamma(2.0, 10.0, n).round(2)
    kind = rng.choice(["voice", "sms", "data", "roam"], n, p=[0.4, 0.2, 0.3, 0.1])
    frame = pd.DataFrame(
        {
            "subscriber_id": ids[who],
            "ts": [START + timedelta(seconds=int(s)) for s in seconds],
            "amount": amount,
            "kind": kind,
            "premium": rng.random(n) < 0.2,
        }
    )
    busy = pd.Series(weight[who]).rank(pct=True).to_numpy()
    risk = 2.5 * busy + (kind == "roam") + amount / 40 + rng.normal(0, 0.4, n)
    frame["is_fraud"] = (risk > 2.6).astype(int)
    return frame


def usage_group() -> FeatureGroup:
    """Ten features: windowed aggregates over 1h, 24h and 7d, a column and a ratio."""
    return FeatureGroup(
        name="usage",
        entity="subscriber",
        source="usage",
        event_time="ts",
        ttl="7d",
        allowed_lateness="1h",
        features=(
            Column("amount", name="last_amount"),
            Aggregate("count", window="1h"),
            Aggregate("count", window="24h"),
            Aggregate("count", window="7d"),
            Aggregate("sum", "amount", "1h"),
            Aggregate("mean", "amount", "24h"),
            Aggregate("max", "amount", "7d"),
            Aggregate("count", window="24h", filter="kind = 'roam'", name="roam_24h"),
            Aggregate("count_distinct", "kind", "7d"),
            Derived("ratio_1h_24h", "sum_amount_1h / nullif(mean_amount_24h, 0)"),
        ),
    )


def build(project: Project, events: pd.DataFrame | None = None, *, model: str = "fs") -> None:
    """Ingest the events, apply the group, make the training set, train, materialize."""
    events = usage_events() if events is None else events
    path = project.root / "usage.parquet"
    events.drop(columns=["is_fraud"]).to_parquet(path, index=False)
    ingest_path(project, path, "usage")
    spine = project.root / "spine.parquet"
    events.to_parquet(spine, index=False)
    ingest_path(project, spine, "spine")
    apply(project, FeatureSet((ENTITY,), (usage_group(),)))
    training_set(
        project, spine="spine", entity="subscriber_id", time="ts", features=["usage"],
        name="fs_train",
    )  # fmt: skip
    train(project, "fs_train", "is_fraud", model_name=model, exclude=["subscriber_id", "ts"])
    materialize(project)


def make_project(root: Path) -> Project:
    from shipyard.project import init_project

    project = init_project(root)
    build(project)
    return project
