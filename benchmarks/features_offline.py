"""Offline feature store benchmark: point-in-time joins versus a raw DuckDB ASOF JOIN and Feast.

    .venv/bin/python benchmarks/features_offline.py                  # 5M rows, 100k spine
    .venv/bin/python benchmarks/features_offline.py --rows 500000 --skip-feast

Data: ``--rows`` feature rows (200k entities, 60 days, 10 float features) and 100k spine rows,
as Parquet. Figures: (a) a raw DuckDB ASOF JOIN of the 10 features, the floor; (b) our
``historical_features`` for the same 10 plain features (rows compared with (a)); (c) our
windowed aggregates, 4 windows x 5 aggregations; (d) Feast's ``get_historical_features`` with
its DuckDB offline store, in its own venv (``_peer_venv.py``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
FEATURES = [f"f{i}" for i in range(10)]


def generate(folder: Path, rows: int, entities: int, spine_rows: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-01T00:00:00", "us")
    seconds = 60 * 86_400
    ts = start + rng.integers(0, seconds, rows).astype("timedelta64[s]")
    columns = {"entity_id": rng.integers(0, entities, rows), "event_timestamp": ts}
    columns |= {f: rng.random(rows) for f in FEATURES}
    pq.write_table(pa.table(columns), folder / "features.parquet", row_group_size=1_000_000)
    spine_ts = start + rng.integers(7 * 86_400, seconds, spine_rows).astype("timedelta64[s]")
    spine = pa.table({"entity_id": rng.integers(0, entities, spine_rows), "ts": spine_ts})
    pq.write_table(spine, folder / "spine.parquet")


def raw_asof(folder: Path) -> tuple[float, pa.Table]:
    con = duckdb.connect()
    picks = ", ".join(f"f.{f}" for f in FEATURES)
    started = time.perf_counter()
    table = (
        con.sql(
            f"SELECT s.entity_id, s.ts, {picks} FROM read_parquet('{folder}/spine.parquet') s "
            f"ASOF LEFT JOIN read_parquet('{folder}/features.parquet') f "
            "ON s.entity_id = f.entity_id AND f.event_timestamp <= s.ts"
        )
        .arrow()
        .read_all()
    )
    return time.perf_counter() - started, table


def ours(folder: Path) -> tuple[float, float, pa.Table]:
    from shipyard.features import (
        Aggregate,
        Column,
        Entity,
        FeatureGroup,
        FeatureSet,
        apply,
        historical_features,
    )
    from shipyard.ingest import ingest_path
    from shipyard.project import init_project

    project = init_project(folder / "project")
    ingest_path(project, folder / "features.parquet", "usage")
    aggregates = [
        Aggregate(fn, "f0" if fn != "count" else None, window=w)
        for w in ("1h", "24h", "7d", "30d")
        for fn in ("count", "sum", "mean", "min", "max")
    ]
    groups = (
        FeatureGroup("plain", "entity", "usage", "event_timestamp", tuple(map(Column, FEATURES))),
        FeatureGroup("windows", "entity", "usage", "event_timestamp", tuple(aggregates)),
    )
    apply(project, FeatureSet((Entity("entity", ("entity_id",)),), groups))
    spine = pq.read_table(folder / "spine.parquet")
    runs = []
    for _ in range(3):  # best of three, as for (a)
        started = time.perf_counter()
        plain = historical_features(
            project, spine, entity=["entity_id"], time="ts", features="plain"
        )
        plain_s = time.perf_counter() - started
        started = time.perf_counter()
        historical_features(project, spine, entity=["entity_id"], time="ts", features="windows")
        runs.append((plain_s, time.perf_counter() - started))
    return min(r[0] for r in runs), min(r[1] for r in runs), plain


FEAST_SCRIPT = r"""
import json, sys, time, pathlib, pandas as pd, pyarrow.parquet as pq
from datetime import timedelta
folder = pathlib.Path(sys.argv[1])
repo = folder / "feast_repo"; repo.mkdir(exist_ok=True)
(repo / "feature_store.yaml").write_text(
    "project: bench\nprovider: local\nregistry: registry.db\n"
    "offline_store:\n  type: duckdb\nonline_store:\n  type: sqlite\n  path: online.db\n"
    "entity_key_serialization_version: 3\n")
from feast import Entity, FeatureView, Field, FileSource, FeatureStore, ValueType
from feast.types import Float64
entity = Entity(name="entity_id", join_keys=["entity_id"], value_type=ValueType.INT64)
source = FileSource(path=str(folder / "features.parquet"), timestamp_field="event_timestamp")
view = FeatureView(name="usage", entities=[entity], ttl=timedelta(days=365),
    schema=[Field(name=f"f{i}", dtype=Float64) for i in range(10)], source=source)
store = FeatureStore(repo_path=str(repo))
store.apply([entity, view])
spine = pq.read_table(folder / "spine.parquet").to_pandas()
spine = spine.rename(columns={"ts": "event_timestamp"})
spine["event_timestamp"] = spine["event_timestamp"].dt.tz_localize("UTC")
started = time.perf_counter()
frame = store.get_historical_features(entity_df=spine,
    features=[f"usage:f{i}" for i in range(10)]).to_df()
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed, "rows": len(frame)}))
"""


def feast(folder: Path) -> dict[str, object]:
    from _peer_venv import peer_python

    try:
        python = peer_python("feast", ["feast[duckdb]"])
    except Exception as exc:
        return {"error": f"Feast could not be installed: {exc}"}
    script = folder / "feast_bench.py"
    script.write_text(FEAST_SCRIPT)
    proc = subprocess.run(
        [str(python), str(script), str(folder)], capture_output=True, text=True, timeout=1800
    )
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _same_rows(ours_table: pa.Table, raw: pa.Table) -> bool:
    key = ["entity_id", "ts"]
    a = ours_table.select([*key, *FEATURES]).sort_by([(k, "ascending") for k in [*key, *FEATURES]])
    b = raw.select([*key, *FEATURES]).sort_by([(k, "ascending") for k in [*key, *FEATURES]])
    return a.num_rows == b.num_rows and a.equals(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--entities", type=int, default=200_000)
    parser.add_argument("--spine", type=int, default=100_000)
    parser.add_argument("--skip-feast", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        generate(folder, args.rows, args.entities, args.spine)
        raw_asof(folder)  # warm the page cache for both sides
        raw_s, raw = min((raw_asof(folder) for _ in range(3)), key=lambda r: r[0])
        (folder / "run").mkdir()
        for name in ("features.parquet", "spine.parquet"):
            (folder / "run" / name).symlink_to(folder / name)
        plain_s, windows_s, plain = ours(folder / "run")
        peer = {"skipped": True} if args.skip_feast else feast(folder)
        same = _same_rows(plain, raw)
    print(f"{args.rows:,} feature rows, {args.entities:,} entities, {args.spine:,} spine rows")
    print(f"{'measure':<52}{'seconds':>10}")
    print(f"{'(a) raw DuckDB ASOF JOIN, 10 features':<52}{raw_s:>10.2f}")
    ratio = plain_s / raw_s
    print(
        f"{'(b) shipyard historical_features, 10 plain':<52}{plain_s:>10.2f}"
        f"  ({ratio:.2f}x (a), identical rows: {same})"
    )
    print(f"{'(c) shipyard 4 windows x 5 aggregations':<52}{windows_s:>10.2f}")
    feast_text = (
        f"{peer['seconds']:.2f}" if "seconds" in peer else str(peer.get("error", "skipped"))
    )
    print(f"{'(d) Feast get_historical_features (DuckDB store)':<52}{feast_text:>10}")
    if "rows" in peer:
        print(f"    Feast returned {peer['rows']:,} rows")


if __name__ == "__main__":
    main()
