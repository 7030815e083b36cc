"""shipyard pitfalls: every check that applies to a dataset or a model, with its status."""

from __future__ import annotations

import json

import pytest

from shipyard.errors import InvalidInput, NotFound
from shipyard.pitfalls import CHECKS, pitfalls_of
from shipyard.pitfalls._dataset import MODEL_ONLY
from shipyard.registry import approve_model, promote
from shipyard.train import train
from tests.pitfalls.planted import leaky, per_day


def _status(report) -> dict[str, str]:
    return {c["check"]: c["status"] for c in report.checks}


def test_a_dataset_lists_every_check_that_applies(project, ingest) -> None:
    frame = leaky()
    frame["day"] = per_day(n=len(frame))["day"]
    ref = ingest(frame, "loans")
    report = pitfalls_of(project, ref, target="label", facet="plan", positive=1)
    status = _status(report)
    assert list(status) == [k for k in CHECKS if k not in MODEL_ONLY]
    assert status["target_leakage"] == "warning"
    assert status["time_leakage"] == "warning"
    assert status["date_feature"] == "ok"
    assert status["non_representative"] == "not checked"
    assert all(c["detail"] for c in report.checks)
    json.dumps(report.to_json(), allow_nan=False)  # strict JSON
    bare = pitfalls_of(project, ref)
    assert _status(bare)["target_leakage"] == "not checked"
    assert "--target" in next(c["detail"] for c in bare.checks if c["check"] == "target_leakage")


def test_a_dataset_compared_with_another(project, ingest) -> None:
    ref = ingest(leaky(seed=0), "a")
    other = ingest(leaky(seed=1), "b")
    report = pitfalls_of(project, ref, against=other)
    assert _status(report)["non_representative"] == "ok"


def test_a_model_lists_every_check_and_what_training_recorded(project, ingest) -> None:
    train(project, ingest(leaky(), "loans"), "label", model_name="fraud")
    report = pitfalls_of(project, "fraud:1")
    status = _status(report)
    assert list(status) == list(CHECKS)
    assert status["target_leakage"] == "warning"  # recorded by the split
    assert status["untuned"] == "warning"
    assert status["ungated_prod"] == "ok"
    assert status["drift"] == "not checked"
    promote(project, "fraud:1", "prod", force=True, reason="the demo needs it today")
    forced = {c["check"]: c for c in pitfalls_of(project, "fraud@prod").checks}["ungated_prod"]
    assert forced["status"] == "warning" and "the demo needs it today" in forced["detail"]


def test_a_model_promoted_through_its_gates_is_not_flagged(project, ingest) -> None:
    (project.root / "shipyard.yaml").write_text(
        "environments:\n  prod:\n    gates: {approval: true, diagnostics: false, "
        "baseline: false, champion: false}\n"
    )
    train(project, ingest(leaky(), "loans"), "label", model_name="fraud")
    approve_model(project, "fraud:1", comment="reviewed")
    promote(project, "fraud:1", "prod")
    assert _status(pitfalls_of(project, "fraud@prod"))["ungated_prod"] == "ok"


def test_names_that_are_ambiguous_missing_or_misused_are_refused(project, ingest) -> None:
    ref = ingest(leaky(), "loans")
    train(project, ref, "label")  # the model takes the dataset's name
    with pytest.raises(InvalidInput, match="both a dataset and a model"):
        pitfalls_of(project, "loans")
    assert pitfalls_of(project, "loans", target="label").kind == "dataset"
    with pytest.raises(InvalidInput, match="apply to a dataset"):
        pitfalls_of(project, "loans:1", target="label")
    with pytest.raises(NotFound, match="No dataset or model"):
        pitfalls_of(project, "nothing")
    with pytest.raises(InvalidInput, match="--target"):
        pitfalls_of(project, ref, facet="plan")
