from __future__ import annotations

import pandas as pd
import pytest

from shipyard.errors import InvalidInput
from shipyard.model import infer_problem


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0, 1, 1, 0], "binary"),
        (["fraud", "ok", "ok"], "binary"),
        ([True, False, True], "binary"),
        ([0, 1, 2, 1, 2], "multiclass"),
        (["a", "b", "c"], "multiclass"),
        ([0.5, 1.25, 3.0, 7.5], "regression"),
        (list(range(100)), "regression"),
    ],
    ids=["ints01", "strings2", "bools", "ints3", "strings3", "floats", "many_ints"],
)
def test_problem_type_is_inferred_from_the_target(values: list, expected: str) -> None:
    assert infer_problem(pd.Series(values, name="y")).type == expected


def test_rarer_string_class_is_positive() -> None:
    problem = infer_problem(pd.Series(["ok"] * 9 + ["fraud"], name="y"))
    assert problem.positive == "fraud"


def test_single_valued_target_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="single value"):
        infer_problem(pd.Series([1, 1, 1], name="y"))


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01"]), name="t"),
        pd.Series(pd.to_timedelta([1, 2, 3], unit="s"), name="t"),
        pd.Series([[1, 2], [3], [4]], name="t"),
        pd.Series([{"a": 1}, {"a": 2}, {"a": 3}], name="t"),
    ],
    ids=["timestamp", "duration", "list", "struct"],
)
def test_a_target_no_model_can_learn_is_refused_with_the_reason(values: pd.Series) -> None:
    with pytest.raises(InvalidInput, match="The target 't' is"):
        infer_problem(values)
