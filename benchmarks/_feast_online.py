"""Feast's materialize into SQLite and online read; runs inside Feast's own venv.

python _feast_online.py FOLDER READS   ->  one JSON line of figures on stdout
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from feast import Entity, FeatureStore, FeatureView, Field, FileSource, RepoConfig
from feast.infra.online_stores.sqlite import SqliteOnlineStoreConfig
from feast.types import Float64
from feast.value_type import ValueType

FEATURES = [f"f{i}" for i in range(10)]


def main(folder: Path, reads: int) -> None:
    repo = folder / "feast_repo"
    repo.mkdir(exist_ok=True)
    config = RepoConfig(
        project="bench",
        registry=str(repo / "registry.db"),
        provider="local",
        online_store=SqliteOnlineStoreConfig(path=str(repo / "online.db")),
        entity_key_serialization_version=2,
    )
    store = FeatureStore(config=config)
    entity = Entity(name="entity", join_keys=["entity_id"], value_type=ValueType.INT64)
    source = FileSource(path=str(folder / "features.parquet"), timestamp_field="event_timestamp")
    view = FeatureView(
        name="plain",
        entities=[entity],
        ttl=timedelta(days=90),
        schema=[Field(name=f, dtype=Float64) for f in FEATURES],
        source=source,
        online=True,
    )
    store.apply([entity, view])
    started = time.perf_counter()
    store.materialize(datetime(2023, 12, 31), datetime(2024, 3, 2))
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    refs = [f"plain:{f}" for f in FEATURES]
    rng = np.random.default_rng(1)
    times = []
    for key in rng.integers(0, 200_000, reads).tolist():
        t0 = time.perf_counter()
        store.get_online_features(features=refs, entity_rows=[{"entity_id": key}]).to_dict()
        times.append(time.perf_counter() - t0)
    ms = np.array(times) * 1000
    print(
        json.dumps(
            {
                "materialize_s": seconds,
                "peak_mb": peak_mb,
                "p50_ms": float(np.percentile(ms, 50)),
                "p99_ms": float(np.percentile(ms, 99)),
            }
        )
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
