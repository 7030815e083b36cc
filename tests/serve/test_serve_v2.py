"""The Open Inference Protocol (KServe v2) routes, through httpx's ASGI transport."""

from __future__ import annotations

import struct
from typing import Any

import duckdb
import numpy as np
import orjson
import pytest
from tests.serve.test_serve_routes import Client

from shipyard.capture import CaptureWriter, capture_relation
from shipyard.project import Project
from shipyard.registry import LoadedModel, load_model
from shipyard.serve import ShipyardServeApp, create_app
from shipyard.train import train

ROWS = [
    {"amount": 120.5, "calls": 3, "country": "fr", "roaming": True},
    {"amount": 3.0, "calls": 1, "country": "us", "roaming": False},
]


@pytest.fixture(scope="module")
def client(app: ShipyardServeApp) -> Client:
    return Client(app)


def tensors(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One JSON input tensor per column."""
    types = {"amount": "FP64", "calls": "INT64", "country": "BYTES", "roaming": "BOOL"}
    return [
        {"name": c, "datatype": t, "shape": [len(rows)], "data": [r[c] for r in rows]}
        for c, t in types.items()
    ]


def infer(client: Client, inputs: list[dict[str, Any]], model: str = "m", **extra: Any) -> Any:
    return client.post(f"/v2/models/{model}/infer", json={"inputs": inputs, **extra})


def assert_v2_error(response: Any, status: int, *words: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "kind", "details"}
    for word in words:
        assert word in body["error"]
    return str(body["error"])


def test_health_and_server_metadata(client: Client) -> None:
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").status_code == 200
    meta = client.get("/v2").json()
    assert meta["name"] == "shipyard" and "binary_tensor_data" in meta["extensions"]


@pytest.mark.parametrize("name", ["m", "m:1", "m@prod"])
def test_model_metadata_lists_one_input_tensor_per_column(client: Client, name: str) -> None:
    meta = client.get(f"/v2/models/{name}").json()
    assert meta["name"] == name and meta["versions"] == ["1"]
    assert {i["name"]: i["datatype"] for i in meta["inputs"]} == {
        "amount": "FP64",
        "calls": "FP64",
        "country": "BYTES",
        "roaming": "BOOL",
    }
    assert [o["name"] for o in meta["outputs"]] == ["score", "decision"]
    assert client.get(f"/v2/models/{name}/versions/1/ready").json()["ready"] is True


def test_infer_scores_columns_like_the_row_api(client: Client, loaded: LoadedModel) -> None:
    response = infer(client, tensors(ROWS), id="req-7")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == "req-7" and body["model_version"] == "1"
    outputs = {o["name"]: o for o in body["outputs"]}
    expected = loaded.model.predict_records(ROWS)
    assert outputs["score"]["shape"] == [2]
    assert outputs["score"]["data"] == pytest.approx(expected.scores.tolist())
    assert outputs["decision"]["datatype"] == "INT64"
    assert outputs["decision"]["data"] == expected.labels().tolist()  # type: ignore[union-attr]


def test_infer_reads_nested_columns_nulls_and_asks_for_one_output(
    client: Client, loaded: LoadedModel
) -> None:
    inputs = tensors(ROWS)
    inputs[0] = {"name": "amount", "datatype": "FP32", "shape": [2, 1], "data": [[120.5], [None]]}
    response = infer(client, inputs, outputs=[{"name": "score"}], model="m/versions/1")
    assert response.status_code == 200, response.text
    (output,) = response.json()["outputs"]
    expected = loaded.model.predict_records([ROWS[0], {**ROWS[1], "amount": None}])
    assert output["name"] == "score"
    assert output["data"] == pytest.approx(expected.scores.tolist())


def test_infer_reads_triton_binary_tensors(client: Client, loaded: LoadedModel) -> None:
    buffers = [
        np.array([120.5, 3.0]).astype("<f8").tobytes(),
        np.array([3, 1]).astype("<i4").tobytes(),
        b"".join(struct.pack("<I", len(s)) + s for s in (b"fr", b"us")),
        np.array([True, False]).tobytes(),
    ]
    inputs = [
        {"name": "amount", "datatype": "FP64", "shape": [2]},
        {"name": "calls", "datatype": "INT32", "shape": [2]},
        {"name": "country", "datatype": "BYTES", "shape": [2]},
        {"name": "roaming", "datatype": "BOOL", "shape": [2]},
    ]
    for tensor, buffer in zip(inputs, buffers, strict=True):
        tensor["parameters"] = {"binary_data_size": len(buffer)}
    head = orjson.dumps({"inputs": inputs})
    headers = {
        "content-type": "application/octet-stream",
        "inference-header-content-length": str(len(head)),
    }
    response = client.post("/v2/models/m/infer", content=head + b"".join(buffers), headers=headers)
    assert response.status_code == 200, response.text
    scores = response.json()["outputs"][0]["data"]
    assert scores == pytest.approx(loaded.model.predict_records(ROWS).scores.tolist())

    headers["inference-header-content-length"] = str(len(head))
    cut = client.post("/v2/models/m/infer", content=head + b"".join(buffers)[:-3], headers=headers)
    assert_v2_error(cut, 400, "binary data")


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"datatype": "BYTES", "data": ["1", "2"]}, 422, ("'amount' is a number", "'BYTES'")),
        ({"data": ["a", "b"]}, 422, ("FP64", "holds text")),
        ({"data": [True, False]}, 422, ("holds true/false",)),
        ({"shape": [3]}, 422, ("shape [3] but 2 values",)),
        ({"shape": [2, 2]}, 422, ("one column: shape [n] or [n, 1]",)),
        ({"name": "amout"}, 422, ("no input 'amout'", "Did you mean 'amount'")),
        ({"data": "120.5"}, 422, ('"data"',)),
    ],
    ids=[
        "wrong-datatype",
        "text-in-fp64",
        "bool-in-fp64",
        "shape-mismatch",
        "matrix",
        "typo",
        "no-list",
    ],
)
def test_bad_tensors_answer_422_naming_the_input(
    client: Client, change: dict[str, Any], status: int, words: tuple[str, ...]
) -> None:
    inputs = tensors(ROWS)
    inputs[0] = {**inputs[0], **change}
    assert_v2_error(infer(client, inputs), status, *words)


def test_bad_requests_answer_4xx_in_the_protocols_shape(client: Client) -> None:
    inputs = tensors(ROWS)
    assert_v2_error(infer(client, inputs[1:]), 422, "lacks input(s) 'amount'")
    short = [*inputs[:3], {**inputs[3], "shape": [1], "data": [True]}]
    assert_v2_error(infer(client, short), 422, "'roaming' has 1 rows", "have 2")
    assert_v2_error(infer(client, [*inputs, inputs[0]]), 422, "sent twice")
    assert_v2_error(infer(client, inputs, outputs=[{"name": "proba"}]), 422, "no output 'proba'")
    assert_v2_error(infer(client, []), 422, '{"inputs"')
    assert_v2_error(infer(client, inputs, model="fraud"), 404, "No model 'fraud'", "m:1")
    assert_v2_error(client.get("/v2/models/m/versions/9"), 404, "version '9'")
    assert_v2_error(client.post("/v2/models/m/infer", content=b"{"), 400, "not valid JSON")
    wrong = client.post("/v2/models/m/infer", content=b"x", headers={"content-type": "text/csv"})
    assert_v2_error(wrong, 415)
    many = [{**t, "shape": [30], "data": t["data"] * 15} for t in inputs]
    assert_v2_error(infer(client, many), 413, "at most 20")


def test_a_multiclass_model_answers_probabilities_and_text_labels(
    served_project: Project,
) -> None:
    train(served_project, "d", "tier", model_name="tiers", exclude=["y", "spend"])
    loaded = load_model(served_project, "tiers")
    client = Client(create_app(loaded, max_body_bytes=4096, max_rows=20))
    meta = client.get("/v2/models/tiers").json()
    assert meta["outputs"] == [
        {"name": "score", "datatype": "FP64", "shape": [-1, 3]},
        {"name": "decision", "datatype": "BYTES", "shape": [-1]},
    ]
    body = infer(client, tensors(ROWS), model="tiers").json()
    score, decision = body["outputs"]
    expected = loaded.model.predict_records(ROWS)
    assert score["shape"] == [2, 3]
    assert np.reshape(score["data"], (2, 3)) == pytest.approx(expected.scores)
    assert decision["data"] == [str(v) for v in expected.labels().tolist()]  # type: ignore[union-attr]


def test_infer_requests_are_captured_and_counted(loaded: LoadedModel, tmp_path: Any) -> None:
    from shipyard.artifacts import FsspecArtifactStore

    store = FsspecArtifactStore(str(tmp_path / "artifacts"))
    writer = CaptureWriter(store, "m", 1, loaded.model.signature, flush_seconds=3600)
    app: ShipyardServeApp = create_app(loaded, max_body_bytes=4096, max_rows=20, capture=writer)
    client = Client(app)
    inputs = tensors(ROWS)
    inputs[0]["data"] = [120.5, None]
    response = infer(client, inputs)
    assert response.status_code == 200
    metrics = client.get("/metrics").text
    assert 'route="/v2/models/m/infer",status="200"' in metrics
    app.close()
    rel = capture_relation(duckdb.connect(), store, "m")
    assert rel is not None
    table = rel.order("request_id").to_arrow_table()
    assert table.column("country").to_pylist() == ["fr", "us"]
    assert table.column("amount").to_pylist() == [120.5, None]
    assert table.column("score").to_pylist() == pytest.approx(response.json()["outputs"][0]["data"])
