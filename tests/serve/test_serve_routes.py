"""The inference server's routes, through httpx's ASGI transport (no network)."""

from __future__ import annotations

import math
from typing import Any

import anyio
import httpx
import orjson
import pytest

from shipyard.model import EnsembleFamily
from shipyard.project import Project
from shipyard.registry import LoadedModel
from shipyard.serve import ShipyardServeApp, create_app
from shipyard.train import train

COLUMNS = ("amount", "calls", "country", "roaming")


class Client:
    """A blocking client over ``httpx.ASGITransport``; each call runs its own event loop.

    (Starlette's Client warns that it wants ``httpx2``, and warnings are errors here.)
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://serve") as c:
                return await c.request(method, url, **kwargs)

        return anyio.run(call)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)


@pytest.fixture(scope="module")
def client(app: ShipyardServeApp) -> Client:
    return Client(app)


def assert_error(response: Any, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "message", "details"}
    assert body["error"] == kind
    assert body["message"]
    return body


def test_ping_answers_once_the_model_is_loaded(client: Client) -> None:
    response = client.get("/ping")
    assert response.status_code == 200
    assert response.headers["x-shipyard-model"] == "m:1"


def test_predict_scores_each_row_with_a_probability_and_a_label(
    client: Client, loaded: LoadedModel, row: dict[str, Any]
) -> None:
    low = {"amount": 1.0, "calls": 0, "country": "fr", "roaming": False}
    response = client.post("/v1/predict", json={"rows": [row, low]})
    assert response.status_code == 200
    body = response.json()
    assert body["model"] == "m:1"
    assert body["unseen"] == {}
    expected = loaded.model.predict_records([row, low])
    scores = [p["score"] for p in body["predictions"]]
    assert scores == pytest.approx(expected.scores.tolist())
    labels = [p["decision"] for p in body["predictions"]]
    assert labels == [1 if s >= loaded.model.threshold else 0 for s in scores]


def test_unseen_category_is_scored_as_missing_and_reported(
    client: Client, row: dict[str, Any]
) -> None:
    response = client.post("/v1/predict", json={"rows": [row, {**row, "country": "zz"}]})
    assert response.status_code == 200
    assert response.json()["unseen"] == {"country": 1}


@pytest.mark.parametrize(
    "shape",
    ["instances", "instances_positional", "bare_list", "split"],
)
def test_invocations_reads_sagemaker_json_shapes(
    client: Client, row: dict[str, Any], shape: str
) -> None:
    values = [row[c] for c in COLUMNS]
    body = {
        "instances": {"instances": [row, row]},
        "instances_positional": {"instances": [values, values]},
        "bare_list": [row, row],
        "split": {"columns": list(COLUMNS), "data": [values, values]},
    }[shape]
    reference = client.post("/v1/predict", json={"rows": [row]}).json()["predictions"][0]
    response = client.post("/invocations", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["predictions"] == [reference, reference]


@pytest.mark.parametrize("header", [True, False], ids=["header", "no_header"])
def test_invocations_reads_csv(client: Client, row: dict[str, Any], header: bool) -> None:
    lines = ["120.5,3,fr,true", "120.5,3,zz,TRUE"]
    if header:
        # A header lets the client send columns in any order.
        lines = ["roaming,country,calls,amount", "true,fr,3,120.5", "true,zz,3,120.5"]
    response = client.post(
        "/invocations", content="\n".join(lines) + "\n", headers={"content-type": "text/csv"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    reference = client.post("/v1/predict", json={"rows": [row]}).json()["predictions"][0]
    assert body["predictions"][0] == reference
    assert len(body["predictions"]) == 2
    assert body["unseen"] == {"country": 1}


def test_missing_column_is_422_naming_column_and_row(client: Client, row: dict[str, Any]) -> None:
    partial = {k: v for k, v in row.items() if k != "calls"}
    body = assert_error(
        client.post("/v1/predict", json={"rows": [row, partial]}), 422, "InvalidInput"
    )
    assert body["details"] == {"row": 1, "missing": ["calls"]}
    assert "'calls'" in body["message"]


def test_wrong_type_is_422_naming_column_and_row(client: Client, row: dict[str, Any]) -> None:
    bad = {**row, "amount": "lots"}
    body = assert_error(client.post("/v1/predict", json={"rows": [row, bad]}), 422, "InvalidInput")
    assert body["details"]["column"] == "amount"
    assert body["details"]["row"] == 1


def test_wrong_type_in_csv_is_422_naming_column_and_row(client: Client) -> None:
    response = client.post(
        "/invocations", content="1,2,fr,true\n1,2,fr,maybe\n", headers={"content-type": "text/csv"}
    )
    body = assert_error(response, 422, "InvalidInput")
    assert body["details"] == {"column": "roaming", "row": 1, "expected": "true or false"}


def test_csv_row_with_wrong_width_is_422(client: Client) -> None:
    response = client.post("/invocations", content="1,2,fr\n", headers={"content-type": "text/csv"})
    assert assert_error(response, 422, "InvalidInput")["details"]["row"] == 0


def test_non_json_body_is_400(client: Client) -> None:
    response = client.post(
        "/v1/predict", content=b"{rows: oops", headers={"content-type": "application/json"}
    )
    assert "not valid JSON" in assert_error(response, 400, "MalformedBody")["message"]


def test_wrong_json_shape_is_422(client: Client, row: dict[str, Any]) -> None:
    assert_error(client.post("/v1/predict", json={"instances": [row]}), 422, "InvalidInput")
    assert_error(client.post("/v1/predict", json={"rows": [1, 2]}), 422, "InvalidInput")


def test_wrong_content_type_is_415(client: Client) -> None:
    response = client.post("/v1/predict", content=b"a,b", headers={"content-type": "text/csv"})
    assert_error(response, 415, "UnsupportedMediaType")
    response = client.post("/invocations", content=b"<x/>", headers={"content-type": "text/xml"})
    assert_error(response, 415, "UnsupportedMediaType")


def test_body_over_the_limit_is_413_from_content_length(
    client: Client, row: dict[str, Any]
) -> None:
    rows = [{**row, "country": "x" * 400} for _ in range(19)]
    response = client.post("/v1/predict", json={"rows": rows})
    assert assert_error(response, 413, "PayloadTooLarge")["details"]["max_body_bytes"] == 4096


def test_body_over_the_limit_is_413_while_streaming(app: ShipyardServeApp) -> None:
    """A chunked body without Content-Length is cut off once it passes the limit."""
    chunks = [b'{"rows": [' + b" " * 1000] * 10
    sent: list[dict[str, Any]] = []
    received = 0

    async def receive() -> dict[str, Any]:
        nonlocal received
        received += 1
        return {"type": "http.request", "body": chunks[received - 1], "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/predict",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")],
    }
    anyio.run(app, scope, receive, send)
    assert sent[0]["status"] == 413
    assert received == 5  # stopped reading at the first chunk past 4,096 bytes
    assert orjson.loads(sent[1]["body"])["error"] == "PayloadTooLarge"


def test_too_many_rows_is_413(client: Client, row: dict[str, Any]) -> None:
    body = assert_error(
        client.post("/v1/predict", json={"rows": [row] * 21}), 413, "PayloadTooLarge"
    )
    assert body["details"] == {"rows": 21, "max_rows": 20}


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"", "application/json"),
        (b'{"rows": []}', "application/json"),
        (b'{"instances": []}', "application/json"),
        (b"", "text/csv"),
        (b"amount,calls,country,roaming\n", "text/csv"),
    ],
    ids=["empty_json", "no_rows", "no_instances", "empty_csv", "header_only_csv"],
)
def test_empty_request_is_422(client: Client, content: bytes, content_type: str) -> None:
    path = "/v1/predict" if content.startswith(b'{"rows"') else "/invocations"
    response = client.post(path, content=content, headers={"content-type": content_type})
    assert_error(response, 422, "InvalidInput")


def test_unknown_route_is_json_404(client: Client) -> None:
    body = assert_error(client.get("/v3/predict"), 404, "NotFound")
    assert "/v1/predict" in body["message"]


def test_wrong_method_is_json_405_with_allow(client: Client) -> None:
    response = client.get("/invocations")
    assert_error(response, 405, "MethodNotAllowed")
    assert response.headers["allow"] == "POST"
    response = client.request("DELETE", "/ping")
    assert_error(response, 405, "MethodNotAllowed")
    assert response.headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize("path", ["/ping", "/v1/model", "/openapi.json"])
def test_head_answers_like_get_without_a_body(client: Client, path: str) -> None:
    got = client.get(path)
    response = client.request("HEAD", path)
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(got.content))


def test_explain_returns_top_contributions_that_add_up(
    client: Client, loaded: LoadedModel, row: dict[str, Any]
) -> None:
    assert loaded.model.calibrator is None  # else the score is not sigmoid(raw_score)
    response = client.post("/v1/predict?explain=true&top=2", json={"rows": [row, row]})
    assert response.status_code == 200, response.text
    for prediction in response.json()["predictions"]:
        explanation = prediction["explanation"]
        assert explanation["exact"] is True
        assert len(explanation["contributions"]) == 2
        assert {c["feature"] for c in explanation["contributions"]} <= set(COLUMNS)
        # one model explains in log-odds; a bag of fold models (SHIPYARD_TEST_MODEL=cv)
        # in its probability, the mean of its members'
        raw = explanation["raw_score"]
        bagged = isinstance(loaded.model.family, EnsembleFamily)
        assert explanation["space"] == ("probability" if bagged else "log-odds")
        probability = raw if bagged else 1 / (1 + math.exp(-raw))
        assert probability == pytest.approx(prediction["score"], abs=1e-6)
    plain = client.post("/v1/predict?explain=false", json={"rows": [row]}).json()
    assert "explanation" not in plain["predictions"][0]


@pytest.mark.parametrize("query", ["top=101", "top=3", "explain=false&top=3"])
def test_top_without_explain_is_422(client: Client, row: dict[str, Any], query: str) -> None:
    response = client.post(f"/v1/predict?{query}", json={"rows": [row]})
    assert "explain=true" in assert_error(response, 422, "InvalidInput")["message"]


def test_explaining_more_rows_than_the_limit_is_413(
    loaded: LoadedModel, row: dict[str, Any]
) -> None:
    client = Client(create_app(loaded, max_body_bytes=10_000, max_rows=20, max_explain_rows=3))
    response = client.post("/v1/predict?explain=true", json={"rows": [row] * 4})
    body = assert_error(response, 413, "PayloadTooLarge")
    assert body["details"] == {"rows": 4, "max_explain_rows": 3}
    assert "SHIPYARD_SERVE_MAX_EXPLAIN_ROWS" in body["message"]
    assert client.post("/v1/predict?explain=true", json={"rows": [row] * 3}).status_code == 200
    assert client.post("/v1/predict", json={"rows": [row] * 4}).status_code == 200


def test_a_client_leaving_mid_body_is_not_scored(app: ShipyardServeApp) -> None:
    incoming = iter(
        [
            {"type": "http.request", "body": b'{"rows": [{"amount": 1', "more_body": True},
            {"type": "http.disconnect"},
        ]
    )
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(incoming)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/predict",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")],
    }
    anyio.run(app, scope, receive, send)
    assert "disconnected" in orjson.loads(sent[1]["body"])["message"]


@pytest.mark.parametrize("value", ["-3.9e-68", "maybe", ""])
def test_explain_that_is_not_a_boolean_is_422(
    client: Client, row: dict[str, Any], value: str
) -> None:
    """Found by schemathesis: ?explain=-3.9e-68 used to score as if explain were false."""
    response = client.post(f"/v1/predict?explain={value}", json={"rows": [row]})
    body = assert_error(response, 422, "InvalidInput")
    assert body["details"] == {"explain": value}


@pytest.mark.parametrize("top", ["0", "x", "101"])
def test_explain_top_out_of_range_is_422(client: Client, row: dict[str, Any], top: str) -> None:
    response = client.post(f"/v1/predict?explain=true&top={top}", json={"rows": [row]})
    assert "top" in assert_error(response, 422, "InvalidInput")["message"]


def test_explain_on_a_forest_is_501(served_project: Project, row: dict[str, Any]) -> None:
    from shipyard.registry import load_model

    train(
        served_project,
        "d",
        "y",
        model_name="forest",
        family="random_forest",
        exclude=["tier", "spend"],
    )
    client = Client(
        create_app(load_model(served_project, "forest"), max_body_bytes=10_000, max_rows=5)
    )
    response = client.post("/v1/predict?explain=true", json={"rows": [row]})
    assert "random_forest" in assert_error(response, 501, "NotSupported")["message"]
    assert client.post("/v1/predict", json={"rows": [row]}).status_code == 200


def test_model_route_describes_the_version(client: Client) -> None:
    body = client.get("/v1/model").json()
    assert (body["name"], body["version"]) == ("m", 1)
    assert [c["name"] for c in body["signature"]["inputs"]] == list(COLUMNS)
    assert "valid" in body["metrics"]


def test_openapi_document_describes_every_route(client: Client) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    doc = orjson.loads(response.content)
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {
        "/ping",
        "/invocations",
        "/v1/predict",
        "/v1/model",
        "/openapi.json",
        "/v2",
        "/v2/health/live",
        "/v2/health/ready",
        *(
            f"/v2/models/{{model_name}}{version}{route}"
            for version in ("", "/versions/{model_version}")
            for route in ("", "/ready", "/infer")
        ),
    }
    assert set(doc["components"]["schemas"]["Row"]["required"]) == set(COLUMNS)
    assert_schema_refuses_no_rows(doc)
    assert doc["components"]["schemas"]["Row"]["properties"]["roaming"]["type"] == [
        "boolean",
        "null",
    ]
    # Every $ref points at a schema that exists.
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            refs.extend(v for k, v in node.items() if k == "$ref")
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc)
    assert refs
    for ref in refs:
        assert ref.removeprefix("#/components/schemas/") in doc["components"]["schemas"]


def test_lifespan_starts_and_stops(app: ShipyardServeApp) -> None:
    incoming = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return next(incoming)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])

    anyio.run(app, {"type": "lifespan"}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_limits_must_be_positive(loaded: LoadedModel) -> None:
    with pytest.raises(Exception, match="must be positive"):
        create_app(loaded, max_body_bytes=0, max_rows=10)


@pytest.mark.parametrize("problem", ["multiclass", "regression"])
def test_multiclass_and_regression_scores(
    served_project: Project, row: dict[str, Any], problem: str
) -> None:
    from shipyard.registry import load_model

    target = {"multiclass": "tier", "regression": "spend"}[problem]
    others = {"tier", "spend", "y"} - {target}
    name = f"m_{problem}"
    train(
        served_project,
        "d",
        target,
        model_name=name,
        exclude=sorted(others),
        problem_type=problem,
        split="random",
    )
    client = Client(create_app(load_model(served_project, name), max_body_bytes=10_000, max_rows=5))
    prediction = client.post("/v1/predict", json={"rows": [row]}).json()["predictions"][0]
    if problem == "multiclass":
        assert set(prediction["score"]) == {"high", "low", "mid"}
        assert sum(prediction["score"].values()) == pytest.approx(1.0)
        assert prediction["decision"] == max(prediction["score"], key=prediction["score"].get)
    else:
        assert isinstance(prediction["score"], float)
        assert "decision" not in prediction


def assert_schema_refuses_no_rows(doc: dict[str, Any]) -> None:
    """The schema says what the server answers 422 to: every way to send no rows is invalid."""
    schemas = doc["components"]["schemas"]
    assert schemas["PredictRequest"]["properties"]["rows"]["minItems"] == 1
    instances, bare, split, mlflow_split, records, inputs = schemas["InvocationRequest"]["anyOf"]
    assert instances["properties"]["instances"]["minItems"] == 1
    assert bare["minItems"] == 1
    assert split["properties"]["data"]["minItems"] == 1
    assert mlflow_split["properties"]["dataframe_split"]["properties"]["data"]["minItems"] == 1
    assert records["properties"]["dataframe_records"]["minItems"] == 1
    rows, columns, one_row = inputs["properties"]["inputs"]["oneOf"]
    assert rows["minItems"] == 1 and columns["minProperties"] == one_row["minProperties"] == 1
    assert columns["additionalProperties"]["minItems"] == 1
    body = doc["paths"]["/invocations"]["post"]["requestBody"]["content"]
    csv = body["text/csv"]["schema"]
    assert csv["minLength"] == 1 and csv["pattern"] == r"\S"
