"""Scoring by entity and the feature routes, through the ASGI app in process."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from tests.features._model_data import make_project, usage_events
from tests.serve.test_serve_routes import Client, assert_error

from shipyard.features import historical_features
from shipyard.project import Project, open_project
from shipyard.registry import LoadedModel, load_model
from shipyard.serve import create_app

EVENT = {"amount": 42.5, "kind": "roam", "premium": False}


@pytest.fixture(scope="module")
def fs_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    project = make_project(tmp_path_factory.mktemp("fs-serve") / "p")
    yield project
    project.close()


@pytest.fixture(scope="module")
def fs_loaded(fs_project: Project) -> LoadedModel:
    return load_model(fs_project, "fs")


@pytest.fixture
def fs_client(fs_project: Project, fs_loaded: LoadedModel) -> Iterator[Client]:
    app = create_app(fs_loaded, max_body_bytes=1 << 20, max_rows=100, project=fs_project)
    yield Client(app)
    app.close()


def _after_all() -> pd.Timestamp:
    return pd.Timestamp(usage_events()["ts"].max()) + timedelta(minutes=30)


def _offline_score(
    project: Project, loaded: LoadedModel, key: str, at: pd.Timestamp, event: dict[str, Any]
) -> tuple[float, dict[str, Any]]:
    spine = pa.table(
        {
            "subscriber_id": [key],
            "ts": pa.array([at.to_pydatetime()], pa.timestamp("us")),
            **{k: [v] for k, v in event.items()},
        }
    )
    table = historical_features(project, spine, entity="subscriber_id", time="ts",
                                features=["usage"])  # fmt: skip
    frame = table.to_pandas()
    return float(loaded.model.predict_frame(frame).scores[0]), frame.iloc[0].to_dict()


def test_model_lineage_names_its_features(fs_loaded: LoadedModel) -> None:
    refs = fs_loaded.version.lineage["features"]
    assert refs["entity"] == ["subscriber_id"]
    assert refs["time"] == "ts"
    assert refs["groups"][0]["group"] == "usage"
    assert refs["groups"][0]["version"] == 1
    assert "count_1h" in refs["store_inputs"]
    assert sorted(refs["request_inputs"]) == ["amount", "kind", "premium"]
    import json

    bundle = json.loads((fs_loaded.path / "model.json").read_text())
    assert bundle["lineage"]["features"] == refs


@pytest.mark.parametrize("key", ["S000001", "S000007", "S000033"])
def test_entity_score_equals_offline_row_at_the_same_instant(
    fs_client: Client, fs_project: Project, fs_loaded: LoadedModel, key: str
) -> None:
    at = _after_all()
    body = {"subscriber_id": key, "event": EVENT, "at": at.isoformat()}
    response = fs_client.post("/v1/predict?features=true", json=body)
    assert response.status_code == 200, response.text
    got = response.json()
    assert got["missing"] == []
    want, offline = _offline_score(fs_project, fs_loaded, key, at, EVENT)
    assert got["predictions"][0]["score"] == pytest.approx(want, rel=1e-9)
    features = got["features"][0]
    for name, value in features.items():
        expected = offline[name]
        if value is None:
            assert pd.isna(expected), name
        else:
            assert value == pytest.approx(expected), name


def test_many_entities_and_invocations(fs_client: Client) -> None:
    at = _after_all().isoformat()
    entities = [{"subscriber_id": f"S{i:06d}", "event": EVENT} for i in range(5)]
    one = fs_client.post("/invocations", json={"entities": entities, "at": at})
    assert one.status_code == 200, one.text
    scores = [p["score"] for p in one.json()["predictions"]]
    assert len(scores) == 5
    single = fs_client.post("/v1/predict", json={**entities[3], "at": at}).json()
    assert single["predictions"][0]["score"] == pytest.approx(scores[3])


def test_missing_entity_gets_training_defaults_and_is_reported(
    fs_client: Client, fs_loaded: LoadedModel
) -> None:
    body = {"entities": [{"subscriber_id": "NOBODY", "event": EVENT}], "features": True}
    response = fs_client.post("/v1/predict", json=body)
    assert response.status_code == 200, response.text
    got = response.json()
    assert got["missing"] == [
        {"index": 0, "entity": {"subscriber_id": "NOBODY"}, "groups": ["usage"]}
    ]
    features = got["features"][0]
    assert features["count_7d"] == 0 and features["mean_amount_24h"] is None
    want = fs_loaded.model.predict_records([{**features, **EVENT}]).scores[0]
    assert got["predictions"][0]["score"] == pytest.approx(want)


def test_apply_then_score_counts_the_event(
    fs_project: Project, fs_loaded: LoadedModel, tmp_path: Any
) -> None:
    app = create_app(fs_loaded, max_body_bytes=1 << 20, max_rows=100, project=fs_project)
    client = Client(app)
    at = _after_all() + timedelta(hours=2)
    key = "S000002"
    event = {**EVENT, "subscriber_id": key, "ts": at.isoformat()}
    before = client.post(
        "/v1/features/online",
        json={"features": ["usage:count_1h,count_7d"], "entities": [{"subscriber_id": key}],
              "at": at.isoformat()},
    ).json()["rows"][0]  # fmt: skip
    response = client.post("/v1/predict?apply=true&features=true",
                           json={"subscriber_id": key, "event": event})  # fmt: skip
    assert response.status_code == 200, response.text
    got = response.json()
    assert got["applied"][0]["applied"] == 1 and got["applied"][0]["late"] == 0
    assert got["features"][0]["count_1h"] == before["count_1h"] + 1
    assert got["features"][0]["count_7d"] == before["count_7d"] + 1
    assert got["features"][0]["last_amount"] == EVENT["amount"]
    # The request wrote no Parquet: the log part appears when the writer flushes.
    app.close()
    want, _ = _offline_score(fs_project, fs_loaded, key, at, EVENT)
    assert got["predictions"][0]["score"] == pytest.approx(want, rel=1e-9)


def test_push_route_applies_rows_and_reports_late_ones(fs_client: Client) -> None:
    at = _after_all() + timedelta(hours=5)
    rows = [
        {"subscriber_id": "S000040", "ts": at.isoformat(), "amount": 3.0, "kind": "sms",
         "premium": False},
        {"subscriber_id": "S000040", "ts": (at - timedelta(hours=3)).isoformat(), "amount": 1.0,
         "kind": "sms", "premium": False},
    ]  # fmt: skip
    response = fs_client.post("/v1/features/usage/push", json={"rows": rows})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["received"] == 2 and report["applied"] == 1 and report["late"] == 1


def test_online_route_reads_values(fs_client: Client) -> None:
    at = _after_all().isoformat()
    body = {"features": ["usage:count_7d"], "entities": [{"subscriber_id": "S000001"},
            {"subscriber_id": "NOBODY"}], "at": at}  # fmt: skip
    response = fs_client.post("/v1/features/online", json=body)
    assert response.status_code == 200, response.text
    got = response.json()
    assert got["rows"][0]["count_7d"] > 0
    assert got["rows"][1] == {"subscriber_id": "NOBODY", "count_7d": 0}
    assert got["missing"] == {"usage": [1]}


@pytest.mark.parametrize(
    ("route", "body", "status", "kind", "text"),
    [
        ("/v1/features/online", {"features": ["usag"], "entities": [{"subscriber_id": "S1"}]},
         404, "NotFound", "usage"),
        ("/v1/features/online", {"features": ["usage:count_1hh"],
         "entities": [{"subscriber_id": "S1"}]}, 404, "NotFound", "count_1h"),
        ("/v1/features/online", {"features": ["usage"], "entities": [{"sub": "S1"}]},
         404, "NotFound", "subscriber_id"),
        ("/v1/features/online", {"features": [], "entities": []}, 422, "InvalidInput", "features"),
        ("/v1/features/usag/push", {"rows": [{"a": 1}]}, 404, "NotFound", "usage"),
        ("/v1/features/usage/push", {"rows": [{"subscriber_id": "S1", "ts": "2024-05-01"}]},
         422, "InvalidInput", "amount"),
        ("/v1/features/usage/push", {"rows": []}, 422, "InvalidInput", "rows"),
        ("/v1/predict", {"event": EVENT}, 422, "InvalidInput", "subscriber_id"),
        ("/v1/predict", {"subscriber_id": "S1", "event": [1]}, 422, "InvalidInput", "event"),
        ("/v1/predict?apply=true", {"subscriber_id": "S1", "event": {"amount": 1.0}},
         422, "InvalidInput", "no event fits"),
        ("/v1/predict?apply=maybe", {"subscriber_id": "S1"}, 422, "InvalidInput", "apply"),
        ("/v1/predict", {"subscriber_id": "S1", "event": {"kind": "roam"}},
         422, "InvalidInput", "amount"),
    ],
)  # fmt: skip
def test_bad_inputs_get_clear_4xx(
    fs_client: Client, route: str, body: Any, status: int, kind: str, text: str
) -> None:
    body_out = assert_error(fs_client.post(route, json=body), status, kind)
    assert text in body_out["message"]


def test_unreachable_redis_is_503_without_password(
    fs_project: Project, fs_loaded: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPYARD_ONLINE_URL", "redis://:hunter2@127.0.0.1:1/0")
    project = open_project(fs_project.root, face="serve")
    try:
        app = create_app(fs_loaded, max_body_bytes=1 << 20, max_rows=100, project=project)
        client = Client(app)
        for route, body in [
            ("/v1/predict", {"subscriber_id": "S000001", "event": EVENT}),
            ("/v1/features/online", {"features": ["usage"], "entities": [{"subscriber_id": "S1"}]}),
        ]:
            response = client.post(route, json=body)
            assert_error(response, 503, "BackendUnavailable")
            assert "hunter2" not in response.text
            assert "127.0.0.1:1" in response.text
        app.close()
    finally:
        project.close()


def test_openapi_lists_entity_scoring_and_feature_routes(fs_client: Client) -> None:
    doc = fs_client.get("/openapi.json").json()
    assert "/v1/features/online" in doc["paths"]
    assert "/v1/features/{group}/push" in doc["paths"]
    assert "EntityRequest" in doc["components"]["schemas"]
    names = [p["name"] for p in doc["paths"]["/v1/predict"]["post"]["parameters"]]
    assert {"apply", "features", "explain"} <= set(names)
    info = fs_client.get("/v1/model").json()
    assert info["entity_scoring"]["entity"] == ["subscriber_id"]


def test_capture_records_the_looked_up_features_as_inputs(
    fs_project: Project, fs_loaded: LoadedModel, tmp_path: Any
) -> None:
    import duckdb

    from shipyard.artifacts import FsspecArtifactStore
    from shipyard.capture import CaptureWriter, capture_relation

    store = FsspecArtifactStore(str(tmp_path / "artifacts"))
    writer = CaptureWriter(store, "fs", fs_loaded.version.version, fs_loaded.model.signature,
                           flush_seconds=3600)  # fmt: skip
    app = create_app(fs_loaded, max_body_bytes=1 << 20, max_rows=100, capture=writer,
                     project=fs_project)  # fmt: skip
    body = {"subscriber_id": "S000001", "event": EVENT, "at": _after_all().isoformat()}
    got = Client(app).post("/v1/predict?features=true", json=body).json()
    app.close()
    rel = capture_relation(duckdb.connect(), store, "fs")
    assert rel is not None
    row = rel.to_arrow_table().to_pylist()[0]
    assert row["count_7d"] == got["features"][0]["count_7d"] > 0
    assert row["amount"] == EVENT["amount"]


def test_pushes_are_audited_with_their_outcome(fs_project: Project, fs_loaded: LoadedModel) -> None:
    from shipyard.serve._auth import protect

    app = create_app(fs_loaded, max_body_bytes=1 << 20, max_rows=100, project=fs_project)
    client = Client(protect(app, fs_project, "fs", "none"))
    row = {"subscriber_id": "S000041", "ts": (_after_all() + timedelta(hours=6)).isoformat(),
           "amount": 2.0, "kind": "sms", "premium": False}  # fmt: skip
    try:
        assert client.post("/v1/features/usage/push", json={"rows": [row]}).status_code == 200
        assert client.post("/v1/features/usage/push", json={"rows": []}).status_code == 422
        assert client.post("/v1/features/online", json={}).status_code == 422  # a read
    finally:
        app.close()
    calls = [e for e in fs_project.catalog.list_events(20) if e.action == "serve.call"][:2]
    assert [e.details["outcome"] for e in calls] == ["InvalidInput", "ok"]
    for event in calls:
        assert event.face == "serve" and event.actor == "anonymous"
        assert event.object_id == "POST /v1/features/{group}/push"
        assert event.details["path"] == "/v1/features/usage/push"
