"""MLflow's scoring payloads on /invocations, through httpx's ASGI transport."""

from __future__ import annotations

from typing import Any

import pytest
from tests.serve.test_serve_routes import Client, assert_error

from shipyard.registry import LoadedModel
from shipyard.serve import ShipyardServeApp

COLUMNS = ["amount", "calls", "country", "roaming"]
ROWS = [[120.5, 3, "fr", True], [3.0, 1, "us", False]]
RECORDS = [dict(zip(COLUMNS, row, strict=True)) for row in ROWS]


@pytest.fixture(scope="module")
def client(app: ShipyardServeApp) -> Client:
    return Client(app)


@pytest.mark.parametrize(
    "body",
    [
        {"dataframe_split": {"columns": COLUMNS, "data": ROWS, "index": [10, 11]}},
        {"dataframe_split": {"data": ROWS}},
        {"dataframe_split": {"columns": COLUMNS[::-1], "data": [r[::-1] for r in ROWS]}},
        {"dataframe_records": RECORDS},
        {"instances": RECORDS},
        {"instances": ROWS},
        {"inputs": RECORDS},
        {"inputs": ROWS, "params": {}},
        {"inputs": {c: [r[i] for r in ROWS] for i, c in enumerate(COLUMNS)}},
    ],
    ids=[
        "split",
        "split-no-columns",
        "split-reordered",
        "records",
        "instances",
        "instances-lists",
        "inputs-rows",
        "inputs-lists",
        "inputs-columns",
    ],
)
def test_every_mlflow_payload_scores_like_the_rows(
    client: Client, loaded: LoadedModel, body: dict[str, Any]
) -> None:
    response = client.post("/invocations", json=body)
    assert response.status_code == 200, response.text
    expected = loaded.model.predict_records(RECORDS).scores.tolist()
    assert [p["score"] for p in response.json()["predictions"]] == pytest.approx(expected)


def test_one_row_of_scalars_under_inputs(client: Client, loaded: LoadedModel) -> None:
    response = client.post("/invocations", json={"inputs": RECORDS[0]})
    assert response.status_code == 200, response.text
    (prediction,) = response.json()["predictions"]
    assert prediction["score"] == pytest.approx(loaded.model.predict_records(RECORDS[:1]).scores[0])


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"inputs": ROWS, "dataframe_records": RECORDS}, "send exactly one of"),
        ({"inputs": ROWS, "params": {"threshold": 0.2}}, "takes no params"),
        ({"dataframe_split": {"data": ROWS, "orient": "split"}}, "it also has 'orient'"),
        ({"dataframe_split": {"columns": COLUMNS}}, 'must have "data"'),
        ({"dataframe_split": {"data": ROWS, "index": [1]}}, "one label per row"),
        ({"dataframe_split": {"data": [[1.0, 2]]}}, "list of 4 values"),
        ({"dataframe_records": ROWS}, "list of objects"),
        ({"inputs": {"amount": [1.0, 2.0], "calls": [3]}}, "differ in length"),
        ({"inputs": {"amount": [1.0], "calls": 3}}, "Column 'calls' has a int"),
        ({"inputs": {"amount": [1.0]}}, "missing column(s)"),
        ({"dataframe_split": []}, "must be an object"),
    ],
)
def test_bad_mlflow_payloads_answer_422_saying_why(
    client: Client, body: dict[str, Any], words: str
) -> None:
    found = assert_error(client.post("/invocations", json=body), 422, "InvalidInput")
    assert words in found["message"]
