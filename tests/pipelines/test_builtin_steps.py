"""The built-in kinds over the rooms' public functions: ingest, check, profile, bias, split,
train, evaluate, gate, register, promote, batch, monitor, approve-wait; a second run reuses
what did not change and acts again where a step acts on the world."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from shipyard.pipelines import run_pipeline
from shipyard.project import Project
from shipyard.registry import approve_model, reject_model
from tests.conftest import make_frame

LIFECYCLE = {
    "name": "lifecycle",
    "parameters": {"data": {"type": "str"}, "margin": 0.0},
    "steps": [
        {"name": "ingest", "kind": "ingest", "config": {"path": "${params.data}", "name": "tx"}},
        {"name": "check", "kind": "check", "inputs": {"dataset": "ingest", "against": "ingest"}},
        {"name": "profile", "kind": "profile", "inputs": {"dataset": "ingest"},
         "config": {"target": "label"}},
        {"name": "bias", "kind": "bias", "inputs": {"dataset": "ingest"},
         "config": {"label": "label", "positive": 1, "facet": "country"}},
        {"name": "split", "kind": "split", "inputs": {"dataset": "ingest"},
         "config": {"target": "label"}},
        {"name": "train", "kind": "train", "inputs": {"dataset": "ingest"},
         "config": {"target": "label", "model_name": "m", "exclude": ["noise"]}},
        {"name": "evaluate", "kind": "evaluate",
         "inputs": {"model": "train.model", "dataset": "ingest"},
         "config": {"champion": "m@prod"}},
        {"name": "gate", "kind": "gate",
         "inputs": {"candidate": "evaluate.candidate", "champion": "evaluate.champion",
                    "margin": "params.margin"}},
        {"name": "register", "kind": "register", "inputs": {"model": "train.model"},
         "when": "gate.passed"},
        {"name": "staging", "kind": "promote", "inputs": {"model": "register"},
         "config": {"environment": "staging"}},
        {"name": "prod", "kind": "promote", "inputs": {"model": "staging"},
         "config": {"environment": "prod"}},
        {"name": "batch", "kind": "batch", "inputs": {"model": "prod", "dataset": "ingest"},
         "config": {"output": "tx_scored"}},
        {"name": "monitor", "kind": "monitor", "config": {"name": "m-watch", "model": "m@prod"},
         "after": ["prod"],
         "inputs": {"run": "gate.passed"}},
    ],
}  # fmt: skip


@pytest.fixture
def pipeline_file(tmp_path: Path, project: Project) -> Path:
    # An automated line: prod's gates without a person's approval (the champion is the
    # pipeline's own gate step here).
    (project.root / "shipyard.yaml").write_text(
        "environments:\n  prod:\n    gates: {approval: false, champion: false}\n"
    )
    make_frame(600).to_parquet(tmp_path / "tx.parquet")
    path = tmp_path / "lifecycle.yaml"
    path.write_text(yaml.safe_dump(LIFECYCLE))
    return path


def test_the_lifecycle_runs_and_reruns_from_the_cache(
    project: Project, pipeline_file: Path
) -> None:
    data = {"data": str(pipeline_file.parent / "tx.parquet")}
    first = run_pipeline(project, str(pipeline_file), data)
    assert first.ok, first.run.error
    assert first.outputs("ingest") == {"dataset": "tx@1"}
    assert first.outputs("check")["passed"] is True
    assert first.outputs("profile")["report"]["subject"] == "tx@1"
    assert first.outputs("train")["model"] == "m:1"
    assert first.outputs("evaluate")["champion"] is None  # no prod yet: the first candidate
    assert first.outputs("gate")["evidence"]["reason"] == "no champion to beat"
    assert project.catalog.resolve_alias("m", "prod").version == 1
    assert project.catalog.resolve_alias("m", "dev").version == 1
    assert first.outputs("batch") == {"dataset": "tx_scored@1"}
    assert first.outputs("monitor")["monitor"] == "m-watch"
    assert project.catalog.pipeline_lineage("m:1") == [(first.run.id, "train")]

    again = run_pipeline(project, str(pipeline_file), {**data, "margin": 0.5})
    statuses = {s.step: s.status for s in again.steps}
    unchanged = {"ingest", "check", "profile", "bias", "split", "train"}
    assert {k for k, v in statuses.items() if v == "cached"} == unchanged
    # the champion is m:1 now, so evaluate runs again, and the gate asks for +0.5
    assert again.outputs("evaluate")["champion"]["model"] == "m:1"
    assert (statuses["gate"], again.outputs("gate")["passed"]) == ("finished", False)
    refused = ("register", "staging", "prod", "batch", "monitor")
    assert {statuses[s] for s in refused} == {"skipped"}
    assert again.ok


def test_approve_wait_passes_an_approved_version_and_stops_on_rejection(
    project: Project, tmp_path: Path
) -> None:
    make_frame(400).to_parquet(tmp_path / "tx.parquet")
    steps = LIFECYCLE["steps"]
    doc = {
        "name": "approval",
        "parameters": {"data": str(tmp_path / "tx.parquet")},
        "steps": [
            steps[0],
            steps[5],
            {"name": "wait", "kind": "approve-wait", "inputs": {"model": "train.model"},
             "config": {"timeout": 0.5, "poll": 0.1}},
        ],
    }  # fmt: skip
    path = tmp_path / "approval.yaml"
    path.write_text(yaml.safe_dump(doc))
    waited = run_pipeline(project, str(path))
    assert not waited.ok and "was not Approved within 0.5 s" in (waited.run.error or "")
    approve_model(project, "m:1", comment="looked at it")
    approved = run_pipeline(project, str(path))
    assert approved.ok and approved.outputs("wait") == {"status": "Approved"}
    reject_model(project, "m:1", comment="changed my mind")
    rejected = run_pipeline(project, str(path))
    assert "m:1 was rejected" in (rejected.run.error or "")


def test_a_train_step_fits_an_anomaly_model_without_a_target(
    project: Project, tmp_path: Path
) -> None:
    make_frame(400).to_parquet(tmp_path / "tx.parquet")
    doc = {
        "name": "anomaly",
        "parameters": {"data": str(tmp_path / "tx.parquet")},
        "steps": [
            LIFECYCLE["steps"][0],
            {"name": "train", "kind": "train", "inputs": {"dataset": "ingest"},
             "config": {"model_name": "odd", "exclude": ["label"],
                        "options": {"problem_type": "anomaly", "contamination": 0.05}}},
        ],
    }  # fmt: skip
    path = tmp_path / "anomaly.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = run_pipeline(project, str(path))
    assert result.ok, result.run.error
    assert result.outputs("train")["model"] == "odd:1"
    assert project.catalog.get_model_version("odd", 1).problem_type == "anomaly"


@pytest.mark.parametrize(("feature", "derived"), [("lof", True), ("none", False)])
def test_a_train_step_adds_the_anomaly_feature_when_asked(
    project: Project, tmp_path: Path, feature: str, derived: bool
) -> None:
    make_frame(400).to_parquet(tmp_path / "tx.parquet")
    doc = {
        "name": "featured",
        "parameters": {"data": str(tmp_path / "tx.parquet"), "anomaly_feature": feature},
        "steps": [
            LIFECYCLE["steps"][0],
            {"name": "train", "kind": "train",
             "inputs": {"dataset": "ingest", "anomaly_feature": "params.anomaly_feature"},
             "config": {"target": "label", "model_name": "m", "family": "linear"}},
        ],
    }  # fmt: skip
    path = tmp_path / "featured.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = run_pipeline(project, str(path))
    assert result.ok, result.run.error
    signature = project.catalog.get_model_version("m", 1).signature
    assert ("derived" in signature) is derived
    assert "anomaly_score" not in {c["name"] for c in signature["inputs"]}
