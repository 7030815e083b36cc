"""Capture, request ids and Prometheus metrics of the inference server (ASGI, no network)."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.serve.test_serve_routes import Client

from shipyard.capture import CaptureWriter, capture_relation
from shipyard.project import Project
from shipyard.registry import LoadedModel
from shipyard.serve import create_app


def metrics(client: Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, keyed by name and sorted labels."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


@pytest.fixture
def capture(served_project: Project, loaded: LoadedModel, tmp_path: Any) -> CaptureWriter:
    from shipyard.artifacts import FsspecArtifactStore

    store = FsspecArtifactStore(str(tmp_path / "artifacts"))
    return CaptureWriter(
        store, "m", loaded.version.version, loaded.model.signature, flush_seconds=3600
    )


def test_the_callers_request_id_is_echoed_and_captured(
    loaded: LoadedModel, capture: CaptureWriter, row: dict[str, Any]
) -> None:
    app = create_app(loaded, max_body_bytes=4096, max_rows=20, capture=capture)
    client = Client(app)
    response = client.post("/v1/predict", json={"rows": [row]}, headers={"X-Request-Id": "abc-1"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "abc-1"
    generated = client.post("/invocations", json={"instances": [row, row]})
    rid = generated.headers["x-request-id"]
    assert len(rid) == 32
    app.close()
    rel = capture_relation(duckdb.connect(), capture.store, "m")
    assert rel is not None
    table = rel.order("request_id").to_arrow_table()
    assert sorted(table.column("request_id").to_pylist()) == sorted(
        ["abc-1", f"{rid}-0", f"{rid}-1"]
    )
    scores = table.column("score").to_pylist()
    assert scores[0] == pytest.approx(response.json()["predictions"][0]["score"])
    assert table.column("prediction").to_pylist()[0] == str(
        response.json()["predictions"][0]["decision"]
    )
    assert table.column("country").to_pylist() == ["fr"] * 3
    assert all(ms > 0 for ms in table.column("latency_ms").to_pylist())


def test_requests_outside_the_sample_are_not_captured(
    loaded: LoadedModel, served_project: Project, row: dict[str, Any], tmp_path: Any
) -> None:
    from shipyard.artifacts import FsspecArtifactStore

    store = FsspecArtifactStore(str(tmp_path / "a"))
    writer = CaptureWriter(store, "m", 1, loaded.model.signature, percent=30)
    app = create_app(loaded, max_body_bytes=4096, max_rows=20, capture=writer)
    client = Client(app)
    ids = [f"r{i}" for i in range(60)]
    for rid in ids:
        assert client.post("/v1/predict", json={"rows": [row]}, headers={"x-request-id": rid})
    app.close()
    rel = capture_relation(duckdb.connect(), store, "m")
    captured = set(rel.to_arrow_table().column("request_id").to_pylist()) if rel else set()
    assert captured == {rid for rid in ids if writer.sampled(rid)}
    assert 0 < len(captured) < len(ids)


def test_failed_requests_are_not_captured(
    loaded: LoadedModel, capture: CaptureWriter, row: dict[str, Any]
) -> None:
    app = create_app(loaded, max_body_bytes=4096, max_rows=20, capture=capture)
    client = Client(app)
    assert client.post("/v1/predict", json={"rows": [{"amount": 1}]}).status_code == 422
    app.close()
    assert capture.stats.written == 0


@pytest.mark.parametrize("bad", ["has space", "x" * 201, "é"])
def test_a_malformed_request_id_is_refused_with_a_fresh_one_echoed(
    app: Any, row: dict[str, Any], bad: str
) -> None:
    response = Client(app).post(
        "/v1/predict", json={"rows": [row]}, headers={"X-Request-Id": bad.encode()}
    )
    assert response.status_code == 422
    assert "X-Request-Id" in response.json()["message"]
    assert len(response.headers["x-request-id"]) == 32


def test_metrics_parse_and_move_after_requests(
    loaded: LoadedModel, capture: CaptureWriter, row: dict[str, Any]
) -> None:
    app = create_app(loaded, max_body_bytes=4096, max_rows=20, capture=capture)
    client = Client(app)
    before = metrics(client)
    assert (
        before[
            (
                "shipyard_model_info",
                (
                    ("family", loaded.model.family.name),
                    ("name", "m"),
                    ("problem_type", "binary"),
                    ("ref", "m:1"),
                    ("version", "1"),
                ),
            )
        ]
        == 1.0
    )
    for _ in range(3):
        assert client.post("/v1/predict", json={"rows": [row, row]}).status_code == 200
    assert client.post("/v1/predict", json={"rows": []}).status_code == 422
    assert client.get("/nowhere").status_code == 404
    app.capture.flush()  # type: ignore[union-attr]
    after = metrics(client)
    ok = ("shipyard_serve_requests_total", (("route", "/v1/predict"), ("status", "200")))
    assert after[ok] - before.get(ok, 0) == 3
    bad = (
        "shipyard_serve_errors_total",
        (("error", "InvalidInput"), ("route", "/v1/predict"), ("status", "422")),
    )
    assert after[bad] == 1
    assert after[("shipyard_serve_requests_total", (("route", "other"), ("status", "404")))] == 1
    latency = ("shipyard_serve_request_duration_seconds_count", (("route", "/v1/predict"),))
    assert after[latency] == 4
    assert after[("shipyard_serve_score_count", ())] == 6
    assert 0 < after[("shipyard_serve_score_sum", ())] < 6
    assert after[("shipyard_serve_score_bucket", (("le", "+Inf"),))] == 6
    assert after[("shipyard_capture_rows_written_total", ())] == 6
    assert after[("shipyard_capture_rows_dropped_total", ())] == 0
    app.close()


def test_capture_drops_show_in_metrics_when_the_buffer_is_full(
    loaded: LoadedModel, row: dict[str, Any], tmp_path: Any
) -> None:
    from shipyard.artifacts import FsspecArtifactStore

    store = FsspecArtifactStore(str(tmp_path / "a"))
    writer = CaptureWriter(
        store, "m", 1, loaded.model.signature, max_buffer_rows=3, flush_seconds=3600
    )
    app = create_app(loaded, max_body_bytes=4096, max_rows=20, capture=writer)
    client = Client(app)
    for _ in range(3):
        assert client.post("/v1/predict", json={"rows": [row, row]}).status_code == 200
    sample = metrics(client)
    assert sample[("shipyard_capture_rows_dropped_total", ())] == 4
    assert sample[("shipyard_capture_rows_buffered", ())] == 2
    app.close()


def test_two_apps_keep_their_own_counts(loaded: LoadedModel, row: dict[str, Any]) -> None:
    first = Client(create_app(loaded, max_body_bytes=4096, max_rows=20))
    second = Client(create_app(loaded, max_body_bytes=4096, max_rows=20))
    first.post("/v1/predict", json={"rows": [row]})
    key = ("shipyard_serve_requests_total", (("route", "/v1/predict"), ("status", "200")))
    assert metrics(first)[key] == 1
    assert key not in metrics(second)


def test_metrics_can_be_switched_off(loaded: LoadedModel) -> None:
    client = Client(create_app(loaded, max_body_bytes=4096, max_rows=20, metrics=False))
    assert client.get("/metrics").status_code == 404
