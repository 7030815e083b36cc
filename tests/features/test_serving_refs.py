"""Feature refs of a model's training set, and the background writer of the offline log."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from shipyard.features import EventLogWriter, log_files, model_features
from shipyard.project import Project
from tests.features._model_data import build, usage_events


def test_refs_split_inputs_between_the_store_and_the_request(project: Project) -> None:
    build(project, usage_events(n=800, entities=20))
    refs = model_features(project, "fs_train@1", ["amount", "count_1h", "ratio_1h_24h", "kind"])
    assert refs is not None
    assert refs["store_inputs"] == ["count_1h", "ratio_1h_24h"]
    assert refs["request_inputs"] == ["amount", "kind"]
    assert refs["groups"][0]["columns"] == {"count_1h": "count_1h", "ratio_1h_24h": "ratio_1h_24h"}
    assert model_features(project, "usage@1", ["amount"]) is None  # not a training set


def test_log_writer_appends_in_order_only_when_flushed(project: Project) -> None:
    writer = EventLogWriter(project, flush_seconds=3600)
    writer.add("g", pa.table({"x": [1, 2]}))
    writer.add("g", pa.table({"x": [3]}))
    assert log_files(project, "g") == [] and writer.buffered == 3
    writer.close()
    (part,) = log_files(project, "g")
    assert pq.read_table(part).column("x").to_pylist() == [1, 2, 3]
    assert writer.add("g", pa.table({"x": [4]})) == 1  # after close: written at once
    assert len(log_files(project, "g")) == 2
