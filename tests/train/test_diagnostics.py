from __future__ import annotations

import numpy as np
import pytest

from shipyard.errors import InvalidInput
from shipyard.train import diagnose, train


def _checks(findings) -> set[str]:
    return {f["check"] for f in findings}


def test_a_leaking_column_is_flagged_and_a_clean_frame_is_not(project, ingest, frame_of, rng):
    frame = frame_of(500, "binary")
    clean = train(project, ingest(frame, "clean"), "label")
    assert "feature_dominance" not in _checks(clean.diagnostics)
    frame["settled_flag"] = frame["label"] + rng.normal(scale=0.05, size=len(frame))
    leaky_ref = ingest(frame, "leaky")
    # The split's near-copy check stops this before any fit; past it, the diagnostic speaks.
    with pytest.raises(InvalidInput, match="settled_flag"):
        train(project, leaky_ref, "label")
    leaky = train(project, leaky_ref, "label", allow_leakage=True)
    finding = next(f for f in leaky.diagnostics if f["check"] == "feature_dominance")
    assert "settled_flag" in finding["message"] and "leak" in finding["message"]
    # stored on the run and the model version
    assert leaky.run.outputs["diagnostics"] == leaky.diagnostics
    assert leaky.model_version.lineage["diagnostics"] == leaky.diagnostics


def test_an_overfitting_configuration_is_flagged(project, ingest, frame_of, rng) -> None:
    frame = frame_of(400, "binary")
    frame["label"] = np.where(rng.random(len(frame)) < 0.3, 1 - frame["label"], frame["label"])
    ref = ingest(frame)
    loose = {
        "learning_rate": 0.5,
        "num_leaves": 64,
        "min_data_in_leaf": 1,
        "lambda_l2": 0.0,
        "num_boost_round": 150,
        "early_stopping_rounds": 1000,
    }
    result = train(project, ref, "label", params=loose)
    assert "overfitting" in _checks(result.diagnostics)
    calm = train(project, ref, "label")
    assert not {"overfitting", "train_valid_gap"} & _checks(calm.diagnostics)


def test_a_large_train_valid_gap_is_flagged() -> None:
    y = np.r_[np.ones(50), np.zeros(50)]
    memorized = diagnose(problem="binary", y_train=y, train_loss=0.05, valid_loss=0.45)
    assert "train_valid_gap" in _checks(memorized)
    assert "train_valid_gap" not in _checks(
        diagnose(problem="binary", y_train=y, train_loss=0.3, valid_loss=0.4)
    )


def test_a_target_without_signal_is_not_learning(project, ingest, frame_of, rng) -> None:
    frame = frame_of(400, "binary")
    frame["label"] = (rng.random(len(frame)) < 0.5).astype(int)
    result = train(project, ingest(frame), "label")
    assert "not_learning" in _checks(result.diagnostics)


def test_unhandled_imbalance_is_flagged_until_classes_are_weighted(rng) -> None:
    y = np.r_[np.ones(8), np.zeros(292)]
    assert "class_imbalance" in _checks(diagnose(problem="binary", y_train=y))
    weighted = diagnose(problem="binary", y_train=y, params={"balanced": True})
    assert "class_imbalance" not in _checks(weighted)
    assert "class_imbalance" not in _checks(diagnose(problem="binary", y_train=y[:20].repeat(2)))


def test_trees_at_max_depth_everywhere_are_flagged(project, ingest, frame_of) -> None:
    ref = ingest(frame_of(500, "regression"))
    stumpy = train(project, ref, "label", params={"max_depth": 2, "num_leaves": 4})
    assert "trees_at_max_depth" in _checks(stumpy.diagnostics)
    roomy = train(project, ref, "label")
    assert "trees_at_max_depth" not in _checks(roomy.diagnostics)


@pytest.mark.parametrize(
    "curves",
    [
        {
            "train_loss": list(np.linspace(0.6, 0.2, 50)),
            "valid_loss": list(np.linspace(0.6, 0.3, 50)),
        },
        {},
    ],
    ids=["healthy_curves", "no_curves"],
)
def test_a_clean_model_gets_no_findings(curves) -> None:
    findings = diagnose(
        problem="binary",
        y_train=np.r_[np.ones(40), np.zeros(60)],
        curves=curves,
        train_loss=0.25,
        valid_loss=0.3,
        baseline=0.67,
        importance=np.array([0.4, 0.3, 0.2, 0.1]),
        feature_names=["a", "b", "c", "d"],
        tree_stats={"limit": "num_leaves", "value": 31, "share_at_limit": 0.1},
    )
    assert findings == []
