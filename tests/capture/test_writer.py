"""CaptureWriter: what lands in the artifact store, the bounded buffer, sampling, crashes."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shipyard.artifacts import ArtifactStore, FsspecArtifactStore
from shipyard.capture import (
    BASE_FIELDS,
    CaptureStats,
    CaptureWriter,
    capture_globs,
    capture_relation,
    is_sampled,
)
from shipyard.errors import InvalidInput

SIGNATURE = {
    "inputs": [
        {"name": "amount", "type": "number"},
        {"name": "country", "type": "string", "levels": 3},
        {"name": "roaming", "type": "boolean"},
        {"name": "seen", "type": "datetime"},
    ]
}


def scored(values: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """Scores of a binary model and their labels, as the server hands them over."""
    scores = np.asarray(values)
    return scores, np.where(scores >= 0.5, "fraud", "ok").astype(object)


def rows(n: int, start: int = 0) -> list[dict[str, object]]:
    return [
        {
            "amount": float(i),
            "country": "fr" if i % 2 else "de",
            "roaming": bool(i % 3),
            "seen": "2024-05-01T10:00:00",
        }
        for i in range(start, start + n)
    ]


@pytest.fixture
def store(tmp_path: Path) -> ArtifactStore:
    return FsspecArtifactStore(str(tmp_path / "artifacts"))


def parquet_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.parquet"))


def read_all(store: ArtifactStore) -> pa.Table:
    con = duckdb.connect()
    rel = capture_relation(con, store, "fraud")
    assert rel is not None
    return rel.order("request_id").to_arrow_table()


def writer(store: ArtifactStore, **kw: object) -> CaptureWriter:
    kw.setdefault("flush_seconds", 3600)  # only size, flush() or close() write in these tests
    return CaptureWriter(store, "fraud", 3, SIGNATURE, **kw)  # type: ignore[arg-type]


def test_rows_land_with_the_capture_schema_after_a_flush(store: ArtifactStore) -> None:
    w = writer(store)
    w.add("a", rows(1), *scored([0.9]), 1.5)
    w.add("b", rows(2, start=1), *scored([0.1, 0.7]), 2.5)
    assert w.flush() == 3
    table = read_all(store)
    files = parquet_files(Path(store.root_uri.removeprefix("file://")))
    schema = pq.read_schema(files[0])
    assert schema.names == [f.name for f in BASE_FIELDS] + ["amount", "country", "roaming", "seen"]
    assert schema.field("captured_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("model_version").type == pa.int64()
    assert schema.field("seen").type == pa.timestamp("us", tz="UTC")
    assert schema.field("roaming").type == pa.bool_()
    assert table.column("request_id").to_pylist() == ["a", "b-0", "b-1"]
    assert table.column("score").to_pylist() == [0.9, 0.1, 0.7]
    assert table.column("prediction").to_pylist() == ["fraud", "ok", "fraud"]
    assert table.column("latency_ms").to_pylist() == [1.5, 2.5, 2.5]
    assert table.column("model").to_pylist() == ["fraud"] * 3
    assert table.column("model_version").to_pylist() == [3] * 3
    assert table.column("variant").to_pylist() == [None] * 3
    assert table.column("amount").to_pylist() == [0.0, 1.0, 2.0]
    assert table.column("seen").to_pylist()[0] == datetime(2024, 5, 1, 10, tzinfo=UTC)
    at = table.column("captured_at").to_pylist()[0]
    assert abs(datetime.now(UTC) - at) < timedelta(minutes=5)
    hour = f"captures/fraud/v3/date={at:%Y-%m-%d}/hour={at:%H}/part-"
    assert len(files) == 1 and hour in files[0].as_posix()
    w.close()
    assert w.stats.written == 3 and w.stats.dropped == 0


def test_the_start_up_warm_up_converts_a_full_flush_and_writes_nothing(
    store: ArtifactStore, tmp_path: Path
) -> None:
    w = writer(store, flush_rows=500)
    assert w.warmed.wait(60)  # made-up rows of every input type converted and encoded
    assert w.stats == CaptureStats(0, 0, 0, 0, 0)
    assert parquet_files(tmp_path) == []
    w.close()


def test_a_row_field_request_id_wins_over_the_request_id(store: ArtifactStore) -> None:
    w = writer(store)
    batch = rows(2)
    batch[0]["request_id"] = "row-7"
    w.add("req", batch, *scored([0.2, 0.3]), 1.0)
    w.close()
    assert read_all(store).column("request_id").to_pylist() == ["req-1", "row-7"]


def test_a_full_buffer_drops_and_counts_rows_instead_of_growing(store: ArtifactStore) -> None:
    w = writer(store, max_buffer_rows=5, flush_rows=1000)
    accepted = [w.add(str(i), rows(2), *scored([0.1, 0.2]), 1.0) for i in range(4)]
    assert accepted == [True, True, False, False]
    assert w.stats.buffered == 4
    assert w.stats.dropped == 4
    w.close()
    assert w.stats.written == 4
    assert read_all(store).num_rows == 4


def test_close_writes_what_is_buffered_and_later_rows_are_dropped(store: ArtifactStore) -> None:
    w = writer(store)
    w.add("x", lambda: rows(3), *scored([0.1, 0.2, 0.3]), 1.0, count=3)  # parsed later
    assert not parquet_files(Path(store.root_uri.removeprefix("file://")))
    w.close()
    assert read_all(store).num_rows == 3
    assert not w.add("y", rows(1), *scored([0.5]), 1.0)
    assert w.stats.dropped == 1


def test_the_thread_writes_once_flush_rows_are_waiting(store: ArtifactStore) -> None:
    w = writer(store, flush_rows=4)
    w.add("a", rows(2), *scored([0.1, 0.2]), 1.0)
    w.add("b", rows(2), *scored([0.1, 0.2]), 1.0)
    for _ in range(200):  # the daemon thread wakes at once; wait for its write
        if w.stats.written == 4:
            break
        import time

        time.sleep(0.02)
    assert w.stats.written == 4
    w.close()


def test_masked_columns_are_stored_as_null(store: ArtifactStore) -> None:
    signature = {
        "inputs": [
            {"name": "amount", "type": "number"},
            {"name": "country", "type": "string", "pii": True},
        ]
    }
    w = CaptureWriter(store, "fraud", 1, signature, flush_seconds=3600, mask=["amount"])
    assert w.masked == ("amount", "country")
    w.add("a", [{"amount": 3.0, "country": "fr"}], *scored([0.5]), 1.0)
    w.close()
    table = read_all(store)
    assert table.column("amount").to_pylist() == [None]
    assert table.column("country").to_pylist() == [None]


def test_values_of_a_near_type_are_converted(store: ArtifactStore) -> None:
    w = writer(store)
    odd = {"amount": 3, "country": "fr", "roaming": 1, "seen": None}
    w.add("a", [odd], *scored([0.5]), 1.0)
    w.close()
    table = read_all(store)
    assert table.column("amount").to_pylist() == [3.0]
    assert table.column("roaming").to_pylist() == [True]
    assert table.column("seen").to_pylist() == [None]


@pytest.mark.parametrize("percent", [1, 20, 50])
def test_sampling_keeps_about_the_share_asked_for_and_is_reproducible(percent: float) -> None:
    ids = [f"req-{i}" for i in range(20_000)]
    kept = np.array([is_sampled(i, percent) for i in ids])
    share = kept.mean() * 100
    # Binomial standard deviation at n=20,000 is at most 0.35 points; allow 5 of them.
    assert abs(share - percent) < 1.8
    assert [is_sampled(i, percent) for i in ids[:100]] == kept[:100].tolist()
    assert all(is_sampled(i, 100) for i in ids[:50])
    assert not any(is_sampled(i, 0) for i in ids[:50])


def test_an_interrupted_publish_leaves_no_visible_file(
    store: ArtifactStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Path(store.root_uri.removeprefix("file://"))
    w = writer(store)
    w.add("ok", rows(1), *scored([0.5]), 1.0)
    w.flush()

    def crash(src: str, dst: str) -> None:  # the process dies between writing and publishing
        raise OSError("killed")

    monkeypatch.setattr(os, "link", crash)
    w.add("lost", rows(1), *scored([0.5]), 1.0)
    w.flush()
    monkeypatch.undo()
    # What a SIGKILL mid-write leaves behind: a temporary file under a hidden name.
    folder = parquet_files(root)[0].parent
    (folder / ".part-x.parquet.dead.tmp").write_bytes(b"PAR1 half a file")
    assert w.stats.failures == 1 and w.stats.dropped == 1
    assert read_all(store).column("request_id").to_pylist() == ["ok"]
    w.close()


def test_globs_select_the_hours_of_a_window(store: ArtifactStore) -> None:
    w = writer(store)
    w.add("a", rows(1), *scored([0.5]), 1.0)
    w.close()
    now = datetime.now(UTC)
    assert len(capture_globs(store, "fraud", since=now - timedelta(hours=2))) == 1
    assert capture_globs(store, "fraud", until=now - timedelta(hours=2)) == []
    assert capture_globs(store, "fraud", version=4) == []
    assert capture_globs(store, "nothing") == []
    assert (
        capture_relation(duckdb.connect(), store, "fraud", since=now + timedelta(hours=2)) is None
    )
    con = duckdb.connect()
    rel = capture_relation(con, store, "fraud", since=now - timedelta(minutes=5), version=3)
    assert rel is not None and rel.to_arrow_table().num_rows == 1
    with pytest.raises(InvalidInput, match="time zone"):
        capture_globs(store, "fraud", since=datetime(2024, 1, 1))


def test_batch_capture_writes_the_same_format(store: ArtifactStore) -> None:
    w = writer(store)
    inputs = pa.table(
        {
            "amount": pa.array([1, 2], pa.int64()),
            "country": ["fr", "de"],
            "roaming": [True, False],
            "seen": pa.array([datetime(2024, 1, 1), None], pa.timestamp("ns")),
            "extra": [1, 2],
        }
    )
    assert w.write_table(inputs, *scored([0.2, 0.8])) == 2
    w.close()
    table = read_all(store)
    assert table.schema.names[: len(BASE_FIELDS)] == [f.name for f in BASE_FIELDS]
    assert "extra" not in table.schema.names
    assert table.column("amount").to_pylist() == [1.0, 2.0]
    ids = table.column("request_id").to_pylist()
    assert ids[0].startswith("batch-") and ids[0].endswith("-0")


def test_bad_parameters_are_refused(store: ArtifactStore) -> None:
    with pytest.raises(InvalidInput, match="0 to 100"):
        CaptureWriter(store, "fraud", 1, SIGNATURE, percent=150)
    with pytest.raises(InvalidInput, match="max_buffer_rows"):
        CaptureWriter(store, "fraud", 1, SIGNATURE, max_buffer_rows=0)
    with pytest.raises(InvalidInput, match="capture column"):
        CaptureWriter(store, "fraud", 1, {"inputs": [{"name": "score", "type": "number"}]})
