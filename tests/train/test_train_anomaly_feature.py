"""``train(..., anomaly_feature=...)``: an anomaly detector's score as one more feature,
fitted on the train part alone and computed inside the model from the raw row."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests.serve.test_serve_routes import Client
from tests.train.test_anomaly import anomaly_frame

from shipyard.deploy import batch_transform
from shipyard.errors import InvalidInput
from shipyard.ingest import ingest_path
from shipyard.model import AnomalyDetector, AnomalyFeatureEncoder
from shipyard.project import Project, init_project
from shipyard.registry import load_model
from shipyard.serve import create_app
from shipyard.train import TrainResult, TrainSpec, train

INPUTS = ["calls", "minutes", "country", "roaming"]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
        for r in frame[INPUTS].to_dict("records")
    ]


@pytest.fixture(scope="module")
def trained(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Project, TrainResult, list[int]]:
    root = tmp_path_factory.mktemp("anomaly-feature")
    project = init_project(root / "proj")
    anomaly_frame(1200).to_parquet(root / "d.parquet")
    ingest_path(project, root / "d.parquet", "d")
    fitted_rows: list[int] = []
    real_fit = AnomalyDetector.fit

    def spy(self: AnomalyDetector, x: np.ndarray, **kwargs: Any) -> AnomalyDetector:
        fitted_rows.append(len(x))
        return real_fit(self, x, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(AnomalyDetector, "fit", spy)
        result = train(
            project, "d", "fraud", anomaly_feature="lof", family="lightgbm", model_name="f"
        )
    yield project, result, fitted_rows
    project.close()


def test_the_detector_learns_from_the_train_part_only(
    trained: tuple[Project, TrainResult, list[int]],
) -> None:
    project, result, fitted_rows = trained
    rows = result.split["rows"]
    assert fitted_rows == [rows["train"]]
    assert result.run.params["anomaly_feature"] == "lof"
    assert rows["train"] < rows["train"] + rows["valid"] + rows["test"] == 1200
    encoder = load_model(project, "f:1").model.encoder
    assert isinstance(encoder, AnomalyFeatureEncoder) and encoder.fitted_rows_ == rows["train"]


def test_the_bundle_predicts_from_the_raw_columns_alone(
    trained: tuple[Project, TrainResult, list[int]],
) -> None:
    project, result, _ = trained
    signature = result.model_version.signature
    assert [c["name"] for c in signature["inputs"]] == INPUTS
    assert signature["derived"] == [{"name": "anomaly_score", "from": "lof detector"}]
    model = load_model(project, "f:1").model  # a round trip through the bundle
    assert model.encoder.feature_names_[-1] == "anomaly_score"
    frame = anomaly_frame(1200)
    scores = model.predict_records(records(frame.iloc[:50])).scores
    assert scores == pytest.approx(model.predict_frame(frame[INPUTS].iloc[:50]).scores)
    # The score feature is the detector's: odd rows get higher ones, and the model uses it.
    encoded = model.encoder.encode_frame(frame).matrix
    assert encoded[frame["fraud"] == 1, -1].mean() > encoded[frame["fraud"] == 0, -1].mean()
    assert "anomaly_score" in model.feature_importance()
    assert result.metrics["test"]["roc_auc"] > 0.9


def test_serve_and_batch_score_the_same_rows_alike(
    trained: tuple[Project, TrainResult, list[int]],
) -> None:
    project, _, _ = trained
    scored = project.lake.read_frame(batch_transform(project, "f:1", "d", "scored").version)
    assert "anomaly_score" not in scored
    client = Client(create_app(load_model(project, "f:1"), max_body_bytes=1 << 20, max_rows=100))
    served = client.post("/invocations", json={"instances": records(anomaly_frame(1200)[:40])})
    assert served.status_code == 200, served.text
    predictions = served.json()["predictions"]
    assert [p["score"] for p in predictions] == pytest.approx(scored["score"][:40].tolist())
    assert [p["decision"] for p in predictions] == scored["decision"][:40].tolist()


def test_an_explanation_lists_the_anomaly_score_like_any_feature(
    trained: tuple[Project, TrainResult, list[int]],
) -> None:
    project, _, _ = trained
    client = Client(create_app(load_model(project, "f:1"), max_body_bytes=1 << 20, max_rows=100))
    row = {"calls": 20.0, "minutes": 60.0 + 150, "country": "fr", "roaming": False}
    answer = client.post("/v1/predict?explain=true&top=5", json={"rows": [row]})
    assert answer.status_code == 200, answer.text
    (prediction,) = answer.json()["predictions"]
    contributions = {c["feature"]: c for c in prediction["explanation"]["contributions"]}
    assert set(contributions) == {*INPUTS, "anomaly_score"}
    model = load_model(project, "f:1").model
    expected = model.encoder.encode_records([row]).matrix[0, -1]
    assert contributions["anomaly_score"]["value"] == pytest.approx(expected)


def test_a_request_carrying_the_score_is_not_asked_for_it(
    trained: tuple[Project, TrainResult, list[int]],
) -> None:
    project, _, _ = trained
    model = load_model(project, "f:1").model
    rows = records(anomaly_frame(1200)[:3])
    given = [{**r, "anomaly_score": 0.99} for r in rows]  # ignored: the model computes it
    assert model.predict_records(given).scores == pytest.approx(model.predict_records(rows).scores)


def test_single_row_latency_is_printed(trained: tuple[Project, TrainResult, list[int]]) -> None:
    project, _, _ = trained
    model = load_model(project, "f:1").model
    (row,) = records(anomaly_frame(1200)[:1])
    model.predict_records([row])
    started = time.perf_counter()
    for _ in range(50):
        model.predict_records([row])
    print(f"single-row predict with the LOF anomaly feature: "
          f"{1000 * (time.perf_counter() - started) / 50:.2f} ms")  # fmt: skip


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"anomaly_feature": "svm"}, "must be one of isolation_forest, lof. Got 'svm'"),
        ({"anomaly_feature": "lof", "problem_type": "anomaly"}, "an anomaly model is that"),
    ],
    ids=["unknown", "anomaly-problem"],
)
def test_bad_options_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        TrainSpec.of(**options)


def test_a_column_named_like_the_score_is_refused(tmp_path: Path) -> None:
    with init_project(tmp_path / "proj") as project:
        anomaly_frame(300).assign(anomaly_score=0.5).to_parquet(tmp_path / "d.parquet")
        ingest_path(project, tmp_path / "d.parquet", "d")
        with pytest.raises(InvalidInput, match="already has a feature 'anomaly_score'"):
            train(project, "d", "fraud", anomaly_feature="isolation_forest")


def test_automl_searches_over_the_augmented_features(tmp_path: Path) -> None:
    with init_project(tmp_path / "proj") as project:
        anomaly_frame(600).to_parquet(tmp_path / "d.parquet")
        ingest_path(project, tmp_path / "d.parquet", "d")
        result = train(
            project, "d", "fraud", anomaly_feature="isolation_forest", time_budget=20,
            max_trials=3, families=["linear", "lightgbm"], model_name="auto",
        )  # fmt: skip
        assert len(result.leaderboard) >= 2
        model = load_model(project, "auto:1").model
        assert model.encoder.feature_names_[-1] == "anomaly_score"
        assert [c["name"] for c in model.signature["inputs"]] == INPUTS
        scores = model.predict_records(records(anomaly_frame(600)[:5])).scores
        assert np.isfinite(scores).all()


def test_onnx_refuses_the_model_and_mlflow_reproduces_it(
    trained: tuple[Project, TrainResult, list[int]], tmp_path: Path
) -> None:
    pytest.importorskip("onnx")
    pytest.importorskip("mlflow")
    from shipyard.deploy import export_model

    project, _, _ = trained
    with pytest.raises(InvalidInput, match=r"computes 'anomaly_score'.*--format mlflow"):
        export_model(project, "f:1", "onnx", tmp_path / "onnx")
    assert not (tmp_path / "onnx").exists()
    exported = export_model(project, "f:1", "mlflow", tmp_path / "mlflow")
    assert exported.check["max_error"] <= 1e-9


def test_lof_scores_its_training_rows_as_it_scores_new_ones() -> None:
    rng = np.random.default_rng(0)
    rows, new = rng.normal(size=(800, 20)), rng.normal(size=(2000, 20))
    detector = AnomalyDetector("lof", {"n_neighbors": 35})
    as_new = detector.fit_score(rows).mean()
    in_sample, served = detector.score(rows).mean(), detector.score(new).mean()
    # Scored as its own neighbour, a training row looks more ordinary than a new one.
    assert in_sample < as_new < served


@pytest.mark.parametrize("detector", ["lof", "isolation_forest"])
def test_the_encoder_gives_its_training_rows_their_scores_as_new_rows(detector: str) -> None:
    frame = anomaly_frame(500).drop(columns=["fraud"])
    encoder = AnomalyFeatureEncoder(detector=detector)
    trained_on = encoder.fit_encode(frame).matrix
    served = encoder.encode_frame(frame).matrix
    assert trained_on[:, :-1] == pytest.approx(served[:, :-1], nan_ok=True)
    if detector == "lof":  # scored as their own neighbour, they would look more ordinary
        assert trained_on[:, -1].mean() > served[:, -1].mean()
    else:  # a forest's random cuts need no such care
        assert trained_on[:, -1] == pytest.approx(served[:, -1])
