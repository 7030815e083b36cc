"""Predictions read the same as records (the server) and as a frame (batch)."""

from __future__ import annotations

import numpy as np
import pytest

from shipyard.model import Predictions, Problem

CASES = {
    "binary": (
        Problem("binary", "y", ("no", "yes"), "yes"),
        np.array([0.9, 0.1, 0.5]),
        np.array([True, False, True]),
    ),
    "binary-int": (
        Problem("binary", "y", (np.int64(0), np.int64(1)), np.int64(1)),
        np.array([0.9, 0.1]),
        np.array([True, False]),
    ),
    "multiclass": (
        Problem("multiclass", "y", ("a", "b", "c")),
        np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]),
        np.array(["a", "c"], dtype=object),
    ),
    "regression": (Problem("regression", "y"), np.array([1.5, -2.0]), None),
}


@pytest.mark.parametrize("case", CASES)
def test_records_and_frame_carry_the_same_fields_and_values(case: str) -> None:
    problem, scores, decisions = CASES[case]
    predictions = Predictions(scores, decisions, problem=problem)
    records = predictions.to_records()
    assert predictions.to_arrow().to_pylist() == records
    assert list(predictions.to_pandas().columns) == list(records[0])


def test_binary_decisions_are_class_labels_in_both_shapes() -> None:
    problem, scores, decisions = CASES["binary"]
    records = Predictions(scores, decisions, problem=problem).to_records()
    assert [r["decision"] for r in records] == ["yes", "no", "yes"]
    problem, scores, decisions = CASES["binary-int"]
    records = Predictions(scores, decisions, problem=problem).to_records()
    assert [r["decision"] for r in records] == [1, 0]
    assert all(type(r["decision"]) is int for r in records)


def test_multiclass_score_is_keyed_by_class() -> None:
    problem, scores, decisions = CASES["multiclass"]
    first = Predictions(scores, decisions, problem=problem).to_records()[0]
    assert first == {"score": {"a": 0.7, "b": 0.2, "c": 0.1}, "decision": "a"}


def test_regression_has_a_score_and_no_decision() -> None:
    problem, scores, decisions = CASES["regression"]
    assert Predictions(scores, decisions, problem=problem).to_records() == [
        {"score": 1.5},
        {"score": -2.0},
    ]
