"""The inference server's route tests again, on a stacked model (AutoML's stacking layer),
plus its bundle: it round-trips, predicts one row fast, explains, and batch-scores."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest
from test_serve_routes import *  # noqa: F403 (the route tests, collected again here)
from test_serve_routes import Client
from tests.conftest import serve_frame

from shipyard.automl import _cv, _stacking
from shipyard.deploy import batch_transform
from shipyard.ingest import ingest_path
from shipyard.model import StackedEstimator, StackedFamily
from shipyard.project import Project, init_project
from shipyard.registry import LoadedModel, approve_model, load_model, promote
from shipyard.train import _automl_fit, train


@pytest.fixture(scope="module")
def served_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    """The serve tests' project, its model a stack: AutoML is told the stack won."""
    root = tmp_path_factory.mktemp("serve-stacked")
    project = init_project(root)
    data = root / "d.parquet"
    serve_frame().to_parquet(data)
    ingest_path(project, data, "d")
    with pytest.MonkeyPatch.context() as patch:
        # The stack wins, and the members' latency (measured on a busy machine) passes.
        patch.setattr(_stacking, "wins_out_of_fold", lambda *a, **k: (True, 0.99, 0.98))
        patch.setattr(_automl_fit, "members_ms", lambda encoder: 1e6)
        patch.setattr(_cv, "CV_MAX_ROWS", 0)  # a holdout search: the members are single fits
        train(
            project, "d", "y", model_name="m", exclude=["tier", "spend"], time_budget=10,
            families=["lightgbm", "linear"], max_trials=6, seed=0,
        )  # fmt: skip
    approve_model(project, "m:1", comment="test fixture")
    promote(project, "m:1", "prod")
    yield project
    project.close()


def test_the_stacked_bundle_round_trips_and_predicts_one_row_fast(
    served_project: Project, loaded: LoadedModel, row: dict[str, object]
) -> None:
    model = loaded.model
    assert isinstance(model.family, StackedFamily)
    assert isinstance(model.estimator, StackedEstimator)
    assert {f.name for f, _, _ in model.estimator.members} == {"lightgbm", "linear"}
    again = load_model(served_project, "m:1").model
    frame = serve_frame(50, seed=1).drop(columns=["y", "tier", "spend"])
    np.testing.assert_allclose(again.predict_frame(frame).scores, model.predict_frame(frame).scores)
    for _ in range(20):
        model.predict_records([row])
    times = []
    for _ in range(200):
        started = time.perf_counter()
        model.predict_records([row])
        times.append(time.perf_counter() - started)
    assert float(np.median(times)) * 1000 < 2.0  # the median: this machine is shared


def test_explain_returns_top_contributions_that_add_up(
    client: Client, loaded: LoadedModel, row: dict[str, object]
) -> None:
    """The route test of the same name, for a stack: its space is the probability."""
    assert loaded.model.calibrator is None  # else the score is not the raw score
    response = client.post("/v1/predict?explain=true&top=2", json={"rows": [row, row]})
    assert response.status_code == 200, response.text
    for prediction in response.json()["predictions"]:
        explanation = prediction["explanation"]
        assert explanation["space"] == "probability" and explanation["exact"] is True
        assert len(explanation["contributions"]) == 2
        assert explanation["raw_score"] == pytest.approx(prediction["score"], abs=1e-6)


def test_the_stacked_model_explains_exactly(loaded: LoadedModel, row: dict[str, object]) -> None:
    [item] = loaded.model.explain_records([row], top=4)
    assert item["explained_by"] == "stack" and item["exact"] is True
    assert item["space"] == "probability"
    assert len(item["contributions"]) == 4  # every feature: they add up to the score
    total = item["base"] + sum(c["contribution"] for c in item["contributions"])
    assert total == pytest.approx(item["raw_score"], abs=1e-9)
    model = loaded.model
    uncalibrated = model.family.predict(model.estimator, model.encoder.encode_records([row]).matrix)
    assert item["raw_score"] == pytest.approx(float(uncalibrated[0]), abs=1e-9)


def test_batch_transform_scores_with_the_stacked_model(served_project: Project) -> None:
    result = batch_transform(served_project, "m@prod", "d", "scored")
    scored = served_project.lake.read_frame(result.version)
    assert len(scored) == 600 and scored["score"].between(0, 1).all()


def test_the_stacked_model_answers_invocations(client: Client, row: dict[str, object]) -> None:
    response = client.post("/invocations", json={"instances": [row]})
    assert response.status_code == 200, response.text
    assert 0.0 <= response.json()["predictions"][0]["score"] <= 1.0


def test_onnx_export_refuses_a_stack_with_a_clear_error(loaded: LoadedModel) -> None:
    from shipyard.deploy._onnx import onnx_graph
    from shipyard.errors import InvalidInput

    with pytest.raises(InvalidInput, match="stacked model cannot be exported to ONNX"):
        onnx_graph(loaded.model, name="m")
