"""Anomaly models through train(): no target needed, a label only chooses and evaluates,
the threshold flags the contamination, and bad input is refused with a clear message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.serve.test_serve_routes import Client

from shipyard.deploy import batch_transform
from shipyard.errors import InvalidInput
from shipyard.ingest import ingest_path
from shipyard.project import Project, init_project
from shipyard.registry import PromotionRefused, approve_model, load_model, promote
from shipyard.serve import create_app
from shipyard.train import TrainResult, TrainSpec, train


def anomaly_frame(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    """Ordinary subscriber-days, and 2% whose calls or minutes are far out of line (label 1)."""
    rng = np.random.default_rng(seed)
    calls = rng.poisson(20, n).astype(float)
    frame = pd.DataFrame(
        {
            "calls": calls,
            "minutes": calls * 3 + rng.normal(0, 4, n),
            "country": rng.choice(["fr", "de", "es"], n),
            "roaming": rng.random(n) < 0.3,
        }
    )
    odd = rng.choice(n, n // 50, replace=False)
    half = len(odd) // 2
    frame.loc[odd[:half], "calls"] *= 6  # many calls
    frame.loc[odd[half:], "minutes"] += 150  # long calls for so few
    frame["fraud"] = 0
    frame.loc[odd, "fraud"] = 1
    return frame


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, TrainResult]:
    root = tmp_path_factory.mktemp("anomaly")
    project = init_project(root / "proj")
    anomaly_frame().to_parquet(root / "d.parquet")
    ingest_path(project, root / "d.parquet", "d")
    result = train(project, "d", "fraud", problem_type="anomaly", model_name="odd")
    yield project, result
    project.close()


def test_a_labelled_job_finds_the_planted_anomalies_and_never_learns_the_label(
    trained: tuple[Project, TrainResult],
) -> None:
    project, result = trained
    test = result.metrics["test"]
    assert test["roc_auc"] > 0.95 and test["pr_auc"] > 0.6 and test["precision_at_k"] > 0.5
    signature = result.model_version.signature
    assert signature["problem_type"] == "anomaly" and signature["target"] == "fraud"
    assert [c["name"] for c in signature["inputs"]] == ["calls", "minutes", "country", "roaming"]
    assert {r["params"]["kind"] for r in result.leaderboard} == {"isolation_forest", "lof"}
    assert result.evaluation is not None
    assert result.evaluation.payload["metrics"]["roc_auc"]["value"] == pytest.approx(
        test["roc_auc"]
    )
    assert project.catalog.get_report("odd:1", "baseline").payload["problem_type"] == "anomaly"


def test_the_threshold_flags_the_contamination_chosen_on_the_label(
    trained: tuple[Project, TrainResult],
) -> None:
    project, result = trained
    decision = result.model_version.signature["decision"]
    assert decision["rule"] == "label_f1" and 0.005 < decision["contamination"] < 0.1
    model = load_model(project, "odd:1").model
    scores = model.predict_frame(anomaly_frame()).scores
    flagged = np.mean(scores >= model.threshold)
    assert flagged == pytest.approx(decision["contamination"], abs=0.02)


def test_an_unlabelled_job_needs_no_target_and_flags_its_contamination(
    trained: tuple[Project, TrainResult],
) -> None:
    project, _ = trained
    result = train(
        project,
        "d",
        None,
        problem_type="anomaly",
        contamination=0.05,
        exclude=["fraud"],
        model_name="blind",
    )
    assert result.evaluation is None and "roc_auc" not in result.metrics["test"]
    assert result.metrics["test"]["anomaly_rate"] == pytest.approx(0.05, abs=0.03)
    assert result.model_version.signature["decision"]["rule"] == "contamination"
    assert result.model_version.signature["target"] is None


@pytest.mark.parametrize("value", [0, -0.1, 0.7, True, "a lot"])
def test_a_bad_contamination_is_refused(value: object) -> None:
    with pytest.raises(InvalidInput, match=r"'contamination'.*\(0, 0\.5\]\. Got"):
        TrainSpec.of(problem_type="anomaly", contamination=value)


def test_contamination_needs_an_anomaly_problem() -> None:
    with pytest.raises(InvalidInput, match="problem_type='anomaly'"):
        TrainSpec.of(contamination=0.01)


def test_a_supervised_job_without_a_target_points_to_anomaly(
    trained: tuple[Project, TrainResult],
) -> None:
    with pytest.raises(InvalidInput, match="--problem anomaly"):
        train(trained[0], "d", None)


def test_supervised_only_options_are_refused(trained: tuple[Project, TrainResult]) -> None:
    with pytest.raises(InvalidInput, match="does not take cost_fp / cost_fn / alert_rate"):
        train(trained[0], "d", "fraud", problem_type="anomaly", alert_rate=0.01)


def test_a_table_without_usable_features_is_refused(project: Project, tmp_path: Path) -> None:
    n = 300
    pd.DataFrame(
        {
            "subscriber_id": [f"s{i}" for i in range(n)],
            "seen_at": pd.date_range("2026-01-01", periods=n, freq="h"),
        }
    ).to_parquet(tmp_path / "ids.parquet")
    ingest_path(project, tmp_path / "ids.parquet", "ids")
    with pytest.raises(InvalidInput, match="No usable feature columns"):
        train(project, "ids", None, problem_type="anomaly")


def test_serve_and_batch_score_the_same_rows_alike(
    trained: tuple[Project, TrainResult],
) -> None:

    project, _ = trained
    rows = anomaly_frame().drop(columns=["fraud"]).iloc[:40]
    scored = project.lake.read_frame(batch_transform(project, "odd:1", "d", "scored").version)
    client = Client(create_app(load_model(project, "odd:1"), max_body_bytes=1 << 20, max_rows=100))
    records = [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
        for r in rows.to_dict("records")
    ]
    served = client.post("/invocations", json={"instances": records})
    assert served.status_code == 200, served.text
    predictions = served.json()["predictions"]
    assert [p["score"] for p in predictions] == pytest.approx(scored["score"][:40].tolist())
    assert [p["decision"] for p in predictions] == scored["decision"][:40].tolist()
    assert scored["decision"].dtype == bool and scored["decision"].sum() > 0
    v2 = client.post(
        "/v2/models/odd/infer",
        json={
            "inputs": [
                {
                    "name": "calls",
                    "datatype": "FP64",
                    "shape": [40],
                    "data": rows["calls"].tolist(),
                },
                {
                    "name": "minutes",
                    "datatype": "FP64",
                    "shape": [40],
                    "data": rows["minutes"].tolist(),
                },
                {
                    "name": "country",
                    "datatype": "BYTES",
                    "shape": [40],
                    "data": rows["country"].tolist(),
                },
                {
                    "name": "roaming",
                    "datatype": "BOOL",
                    "shape": [40],
                    "data": rows["roaming"].tolist(),
                },
            ]
        },
    )
    assert v2.status_code == 200, v2.text
    outputs = {o["name"]: o for o in v2.json()["outputs"]}
    assert outputs["score"]["data"] == pytest.approx(scored["score"][:40].tolist())
    assert outputs["decision"]["datatype"] == "BOOL"
    assert outputs["decision"]["data"] == scored["decision"][:40].tolist()


def test_a_served_explanation_names_the_odd_feature(trained: tuple[Project, TrainResult]) -> None:

    project, _ = trained
    client = Client(create_app(load_model(project, "odd:1"), max_body_bytes=1 << 20, max_rows=100))
    row = {"calls": 20.0, "minutes": 60.0 + 150, "country": "fr", "roaming": False}
    answer = client.post("/v1/predict?explain=true&top=2", json={"rows": [row]})
    assert answer.status_code == 200, answer.text
    (prediction,) = answer.json()["predictions"]
    assert prediction["decision"] is True
    explanation = prediction["explanation"]
    assert explanation["space"] == "anomaly score" and explanation["exact"] is False
    assert explanation["contributions"][0]["feature"] == "minutes"
    assert len(explanation["contributions"]) == 2


def test_the_openapi_document_describes_an_anomaly_score(
    trained: tuple[Project, TrainResult],
) -> None:
    client = Client(create_app(load_model(trained[0], "odd:1"), max_body_bytes=4096, max_rows=9))
    document = client.get("/openapi.json").json()
    prediction = document["components"]["schemas"]["Prediction"]["properties"]
    assert "anomaly score in [0, 1]" in prediction["score"]["description"]


def test_the_champion_gate_judges_anomaly_models_on_their_label(
    trained: tuple[Project, TrainResult],
) -> None:
    project, _ = trained
    train(project, "d", "fraud", problem_type="anomaly", model_name="odd", seed=1)
    train(project, "d", None, problem_type="anomaly", exclude=["fraud"], model_name="odd")
    approve_model(project, "odd:1", comment="champion")
    promote(project, "odd:1", "prod")
    for version in (2, 3):
        approve_model(project, f"odd:{version}", comment="candidate")
    with pytest.raises(PromotionRefused) as refused:
        promote(project, "odd:2", "prod")
    (gate,) = [g for g in refused.value.gates if g.gate == "champion"]
    assert gate.summary.startswith("pr_auc ") and "vs odd:1" in gate.summary
    assert gate.evidence["rows"] > 0
    with pytest.raises(PromotionRefused, match="trained without a label"):
        promote(project, "odd:3", "prod")
