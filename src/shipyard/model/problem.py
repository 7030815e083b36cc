"""What kind of problem a target column poses, and which metric judges it by default."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shipyard._labels import boolean_hint, match_value
from shipyard.errors import InvalidInput
from shipyard.types import ProblemType

__all__ = ["Problem", "infer_problem", "plain_value"]

_MAX_INTEGER_CLASSES = 20


@dataclass(frozen=True)
class Problem:
    """The problem type, the classes (for classification) and the positive class (binary)."""

    type: ProblemType
    target: str
    classes: tuple[Any, ...] = ()
    positive: Any = None

    @property
    def default_metric(self) -> str:
        return {
            "binary": "roc_auc",
            "multiclass": "log_loss",
            "regression": "rmse",
            "anomaly": "pr_auc",
        }[self.type]

    def encode(self, y: pd.Series) -> np.ndarray:
        """Targets as the numbers the estimators fit: 0/1, class indices, or floats."""
        if self.type == "regression":
            return y.to_numpy(dtype=np.float64)
        if self.type == "binary":
            return (y == self.positive).to_numpy(dtype=np.float64)
        lookup = {c: i for i, c in enumerate(self.classes)}
        return y.map(lookup).to_numpy(dtype=np.float64)


def infer_problem(
    y: pd.Series, *, positive: Any = None, problem_type: str | None = None
) -> Problem:
    """Infer binary, multiclass or regression from the target's values.

    Two distinct values make a binary problem; strings, booleans or at most 20 distinct
    integers a multiclass one; other numbers a regression. The positive class of a binary
    problem is ``positive`` when given, else the larger value (1, True), or for strings the
    rarer one.

    Raises:
        InvalidInput: The target is not numbers, booleans or strings (a timestamp, a list, a
            struct), has fewer than two distinct values, or ``positive`` is not one of them.
    """
    _check_target_type(y)
    values = y.dropna()
    distinct = values.unique()
    if len(distinct) < 2:
        shown = repr(distinct[0]) if len(distinct) else "only missing values"
        raise InvalidInput(
            f"The target '{y.name}' has a single value ({shown}) in {len(values)} rows; "
            "a model needs at least two classes or a varying number to learn from."
        )
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if problem_type is None:
        if len(distinct) == 2:
            problem_type = "binary"
        elif not numeric or (
            pd.api.types.is_integer_dtype(values) and len(distinct) <= _MAX_INTEGER_CLASSES
        ):
            problem_type = "multiclass"
        else:
            problem_type = "regression"
    if problem_type not in ("binary", "multiclass", "regression"):
        raise InvalidInput(
            "The problem type must be binary, multiclass or regression. "
            f"Got '{problem_type}' instead."
        )
    if problem_type == "regression":
        if not numeric:
            raise InvalidInput(f"A regression target must be numeric; '{y.name}' is {y.dtype}.")
        return Problem("regression", str(y.name))
    classes = tuple(
        plain_value(v) for v in sorted(distinct.tolist(), key=lambda v: (str(type(v)), v))
    )
    if problem_type == "binary":
        if len(classes) != 2:
            raise InvalidInput(
                f"A binary target needs exactly two classes; '{y.name}' has {len(classes)}."
            )
        if positive is None:
            if numeric or pd.api.types.is_bool_dtype(values):
                positive = classes[1]
            else:
                counts = values.value_counts()
                positive = counts.index[-1]
        else:
            positive = _match_class(positive, classes, str(y.name))
    return Problem(problem_type, str(y.name), classes, plain_value(positive))  # type: ignore[arg-type]


def _check_target_type(y: pd.Series) -> None:
    """Refuse targets no family learns: timestamps, durations, lists, structs, bytes."""
    types = pd.api.types
    kind = None
    if types.is_datetime64_any_dtype(y) or isinstance(y.dtype, pd.PeriodDtype):
        kind = "a timestamp"
    elif types.is_timedelta64_dtype(y):
        kind = "a duration"
    elif y.dtype == object:
        sample = y.dropna().head(1000)
        odd = sample[~sample.map(lambda v: isinstance(v, str | bool | int | float | np.generic))]
        if len(odd):
            kind = f"{type(odd.iloc[0]).__name__} values"
    if kind is not None:
        raise InvalidInput(
            f"The target '{y.name}' is {kind}; a model predicts numbers (regression) or "
            "classes (strings, booleans, integers). Derive a label column with SQL, e.g. "
            "`shipyard ingest --sql \"SELECT *, signup_date < '2026-01-01' AS early FROM t\"`.",
            details={"target": str(y.name), "dtype": str(y.dtype)},
        )


def _match_class(positive: Any, classes: tuple[Any, ...], target: str) -> Any:
    found = match_value(positive, classes)
    if found is not None:
        return found
    raise InvalidInput(
        f"The positive class {positive!r} is not a value of '{target}'. "
        f"Its values: {', '.join(repr(c) for c in classes)}.{boolean_hint(classes)}"
    )


def plain_value(value: Any) -> Any:
    """A NumPy scalar as the Python value JSON and Arrow expect (others unchanged)."""
    return value.item() if isinstance(value, np.generic) else value
