"""JSON bodies captured in bulk land exactly as rows parsed one by one would."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shipyard.artifacts import ArtifactStore, FsspecArtifactStore
from shipyard.capture import CaptureWriter, JsonRows, input_schema
from shipyard.capture._bulk import inputs_from_json

SIGNATURE = {
    "inputs": [
        {"name": "amount", "type": "number"},
        {"name": "country", "type": "string"},
        {"name": "roaming", "type": "boolean"},
        {"name": "seen", "type": "datetime"},
    ]
}


@pytest.fixture
def store(tmp_path: Path) -> ArtifactStore:
    return FsspecArtifactStore(str(tmp_path / "artifacts"))


def written(store: ArtifactStore) -> pa.Table:
    root = Path(store.root_uri.removeprefix("file://"))
    tables = [pq.read_table(f) for f in sorted(root.rglob("*.parquet"))]
    return pa.concat_tables(tables).sort_by("request_id")


def read_in_bulk(sources: list[JsonRows], counts: list[int]) -> bool:
    return inputs_from_json(sources, np.array(counts), input_schema(SIGNATURE)) is not None


def row(i: int) -> dict[str, object]:
    return {
        "amount": i * 1.5,
        "country": f"c{i}",
        "roaming": bool(i % 2),
        "seen": "2024-05-01T10:00:00+00:00",
    }


def capture(store: ArtifactStore, sources: list[object], counts: list[int]) -> pa.Table:
    w = CaptureWriter(store, "fraud", 1, SIGNATURE, flush_seconds=3600)
    for i, (source, n) in enumerate(zip(sources, counts, strict=True)):
        scores = np.full(n, 0.25)
        labels = np.array(["ok"] * n, dtype=object)
        w.add(f"r{i:02d}", source, scores, lambda labels=labels: labels, 1.0, count=n)  # type: ignore[arg-type]
    assert w.flush() == sum(counts)
    w.close()
    return written(store)


def test_bulk_bodies_store_what_one_by_one_parsing_stores(
    store: ArtifactStore, tmp_path: Path
) -> None:
    bodies = [orjson.dumps({"rows": [row(i), row(i + 10)], "extra": {"x": [1]}}) for i in range(3)]
    bodies.append(json.dumps({"instances": [row(7) | {"unknown": 1}]}, indent=2).encode())
    keys = ["rows", "rows", "rows", "instances"]
    sources = [JsonRows(b, k) for b, k in zip(bodies, keys, strict=True)]
    assert read_in_bulk(sources, [2, 2, 2, 1])  # not the fallback
    bulk = capture(store, sources, [2, 2, 2, 1])
    other = FsspecArtifactStore(str(tmp_path / "other"))
    slow = capture(other, [next(iter(orjson.loads(b).values())) for b in bodies], [2, 2, 2, 1])
    assert bulk.drop_columns(["captured_at"]).equals(slow.drop_columns(["captured_at"]))
    assert bulk.column("request_id").to_pylist()[:3] == ["r00-0", "r00-1", "r01-0"]
    assert bulk.column("amount").to_pylist()[-1] == 10.5
    assert bulk.column("seen").type == pa.timestamp("us", tz="UTC")


def test_mixed_sources_keep_each_request_with_its_own_rows(store: ArtifactStore) -> None:
    sources: list[object] = [
        JsonRows(orjson.dumps({"rows": [row(0)]}), "rows"),
        [row(1), row(2)],  # CSV or positional rows: parsed one by one
        JsonRows(orjson.dumps({"rows": [row(3) | {"request_id": "own"}]}), "rows"),
        lambda: [row(4)],
    ]
    table = capture(store, sources, [1, 2, 1, 1])
    got = dict(
        zip(
            table.column("request_id").to_pylist(), table.column("country").to_pylist(), strict=True
        )
    )
    assert got == {"r00": "c0", "r01-0": "c1", "r01-1": "c2", "own": "c3", "r03": "c4"}


def test_a_value_of_a_near_type_falls_back_to_one_by_one_conversion(
    store: ArtifactStore,
) -> None:
    odd = {"amount": "12", "country": "fr", "roaming": 1, "seen": None}  # accepted by the model
    sources = [JsonRows(orjson.dumps({"rows": [r]}), "rows") for r in (row(0), odd)]
    assert not read_in_bulk(sources, [1, 1])
    table = capture(store, sources, [1, 1])
    assert table.column("amount").to_pylist() == [0.0, 12.0]
    assert table.column("roaming").to_pylist() == [False, True]
