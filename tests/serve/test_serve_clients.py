"""The server against clients someone else wrote: NVIDIA's ``tritonclient`` (Open Inference
Protocol) and MLflow's scoring-server client, over real HTTP on loopback."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import pytest
from tests.serve._live import live_server

from shipyard.registry import LoadedModel
from shipyard.serve import ShipyardServeApp

httpclient = pytest.importorskip("tritonclient.http")
triton_utils = pytest.importorskip("tritonclient.utils")

ROWS = pd.DataFrame(
    {
        "amount": [120.5, 3.0, 55.0],
        "calls": [3, 1, 12],
        "country": ["fr", "us", "de"],
        "roaming": [True, False, True],
    }
)


@pytest.fixture(scope="module")
def base(app: ShipyardServeApp) -> Iterator[str]:
    with live_server(app) as url:
        yield url


@pytest.fixture(scope="module")
def triton(base: str) -> Iterator[Any]:
    client = httpclient.InferenceServerClient(urlsplit(base).netloc)
    yield client
    client.close()


def expected(loaded: LoadedModel) -> Any:
    return loaded.model.predict_records(ROWS.to_dict("records"))


def triton_inputs(frame: pd.DataFrame, *, binary: bool) -> list[Any]:
    """One InferInput per column, typed as the model's metadata says."""
    arrays = {
        "amount": frame["amount"].to_numpy(np.float64),
        "calls": frame["calls"].to_numpy(np.int64),
        "country": frame["country"].to_numpy(object),
        "roaming": frame["roaming"].to_numpy(bool),
    }
    out = []
    for name, array in arrays.items():
        tensor = httpclient.InferInput(
            name, [len(array)], triton_utils.np_to_triton_dtype(array.dtype)
        )
        tensor.set_data_from_numpy(array, binary_data=binary)
        out.append(tensor)
    return out


def test_tritonclient_sees_a_ready_server_and_the_models_metadata(triton: Any) -> None:
    assert triton.is_server_live() and triton.is_server_ready()
    assert triton.is_model_ready("m") and triton.is_model_ready("m@prod", "1")
    meta = triton.get_model_metadata("m:1")
    assert meta["versions"] == ["1"]
    assert [(i["name"], i["datatype"]) for i in meta["inputs"]] == [
        ("amount", "FP64"),
        ("calls", "FP64"),
        ("country", "BYTES"),
        ("roaming", "BOOL"),
    ]
    assert [o["name"] for o in meta["outputs"]] == ["score", "decision"]


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_tritonclient_infers_with_one_input_per_column(
    triton: Any, loaded: LoadedModel, binary: bool
) -> None:
    result = triton.infer("m", triton_inputs(ROWS, binary=binary), model_version="1")
    want = expected(loaded)
    np.testing.assert_allclose(result.as_numpy("score"), want.scores, rtol=1e-12)
    np.testing.assert_array_equal(result.as_numpy("decision"), want.labels().astype(np.int64))  # type: ignore[union-attr]

    only = triton.infer(
        "m@prod",
        triton_inputs(ROWS, binary=binary),
        outputs=[httpclient.InferRequestedOutput("decision", binary_data=binary)],
    )
    assert only.as_numpy("score") is None and only.as_numpy("decision") is not None


def test_tritonclient_shows_our_message_for_bad_requests(triton: Any) -> None:
    error = triton_utils.InferenceServerException
    with pytest.raises(error, match="No model 'fraud' here"):
        triton.get_model_metadata("fraud")
    with pytest.raises(error, match="No model 'fraud' here"):
        triton.infer("fraud", triton_inputs(ROWS, binary=True))

    inputs = triton_inputs(ROWS, binary=True)
    inputs[0] = httpclient.InferInput("amount", [3], "BYTES")
    inputs[0].set_data_from_numpy(np.array(["1", "2", "3"], dtype=object))
    with pytest.raises(error, match="'amount' is a number column") as info:
        triton.infer("m", inputs)
    assert info.value.status() == "422"

    short = triton_inputs(ROWS.head(2), binary=True)[:3] + triton_inputs(ROWS, binary=True)[3:]
    with pytest.raises(error, match="'roaming' has 3 rows; the inputs before it have 2"):
        triton.infer("m", short)
    with pytest.raises(error, match=r"lacks input\(s\) 'country'"):
        triton.infer("m", [t for t in triton_inputs(ROWS, binary=True) if t.name() != "country"])


@pytest.fixture(scope="module")
def mlflow_client(base: str) -> Any:
    with warnings.catch_warnings():
        # MLflow's own import warns about its type hints (UserWarning), nothing of ours.
        warnings.simplefilter("ignore")
        client_module = pytest.importorskip("mlflow.pyfunc.scoring_server.client")
    parts = urlsplit(base)
    client = client_module.ScoringServerClient(parts.hostname, parts.port)
    client.wait_server_ready(timeout=10)
    return client


def test_mlflow_client_scores_a_dataframe_and_reads_the_predictions(
    mlflow_client: Any, loaded: LoadedModel
) -> None:
    response = mlflow_client.invoke(ROWS)  # sent as {"dataframe_split": ...} with an index
    frame = response.get_predictions()
    want = expected(loaded)
    assert list(frame.columns) == ["score", "decision"]
    np.testing.assert_allclose(frame["score"].to_numpy(), want.scores, rtol=1e-12)
    assert frame["decision"].tolist() == want.labels().tolist()  # type: ignore[union-attr]


def test_mlflow_client_sends_lists_and_raw_payloads(
    mlflow_client: Any, loaded: LoadedModel
) -> None:
    want = expected(loaded).scores
    records = ROWS.to_dict("records")
    as_inputs = mlflow_client.invoke(records).get_predictions()  # {"inputs": [...]}
    np.testing.assert_allclose(as_inputs["score"].to_numpy(), want, rtol=1e-12)
    payload = ROWS.to_json(orient="records")
    raw = mlflow_client.invoke(f'{{"dataframe_records": {payload}}}').get_predictions()
    np.testing.assert_allclose(raw["score"].to_numpy(), want, rtol=1e-12)
    columns = ROWS.to_dict("list")
    raw = mlflow_client.invoke(json.dumps({"inputs": columns})).get_predictions()
    np.testing.assert_allclose(raw["score"].to_numpy(), want, rtol=1e-12)


def test_mlflow_client_reports_our_error(mlflow_client: Any) -> None:
    with pytest.raises(Exception, match=r"error code 422.*missing column\(s\) 'country'"):
        mlflow_client.invoke(ROWS.drop(columns=["country"]))
    with pytest.raises(Exception, match=r"error code 422.*takes no params"):
        mlflow_client.invoke(ROWS, params={"threshold": 0.2})
