"""A quick model: a small LightGBM that says, in about a second, how well rows can be learned.

The pitfall checks ask questions a model answers better than a statistic: does a time split
score lower than a random one, would more rows still help, can a classifier tell two samples
apart. They need the same modest model every time, not the best one: 100 trees of 15 leaves,
learning rate 0.1, one thread (the sizes it sees are capped), the project's feature encoder
(numbers as they are, strings as codes, missing as NaN).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Encoded", "encode_pair", "quick_fit", "quick_metric", "quick_score"]

_PARAMS: dict[str, Any] = {
    "n_estimators": 100,
    "learning_rate": 0.1,
    "num_leaves": 15,
    "min_child_samples": 20,
    "verbose": -1,
}
_RARE = 0.05  # below this share of positives, PR AUC says more than ROC AUC


@dataclass(frozen=True)
class Encoded:
    """Two frames encoded alike (the encoder fit on the first), and the feature names."""

    first: np.ndarray
    second: np.ndarray
    features: list[str]


def encode_pair(first: pd.DataFrame, second: pd.DataFrame, exclude: Sequence[str]) -> Encoded:
    """Both frames as float matrices, encoded by a feature encoder fit on ``first``.

    Raises:
        InvalidInput: No usable feature column is left after ``exclude``.
    """
    from shipyard.model import FeatureEncoder

    encoder = FeatureEncoder(exclude=list(exclude)).fit(first)
    return Encoded(
        encoder.encode_frame(first).matrix,
        encoder.encode_frame(second).matrix,
        list(encoder.feature_names_),
    )


def quick_metric(kind: str, y_train: np.ndarray) -> str:
    """The metric a quick comparison reports: roc_auc (pr_auc under 5% positives),
    accuracy for several classes, r2 for numbers."""
    if kind == "binary":
        return "pr_auc" if float(np.mean(y_train)) < _RARE else "roc_auc"
    return "accuracy" if kind == "multiclass" else "r2"


def quick_fit(
    kind: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    *,
    seed: int = 0,
    n_classes: int = 2,
    stop_on: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, Any]:
    """Fit the quick model and score ``x_test``: P(positive), class probabilities or values;
    and the fitted model (its ``feature_importances_`` are gains).

    With ``stop_on`` (rows and targets), the trees stop growing once that set's loss has
    not improved for 20 rounds (up to 300): each size of a learning curve then gets the
    model that suits it, rather than 100 trees that overfit its smallest part.
    """
    import lightgbm as lgb

    params = {**_PARAMS, "random_state": seed, "n_jobs": 1, "importance_type": "gain"}
    fit: dict[str, Any] = {}
    if stop_on is not None:
        params["n_estimators"] = 300
        fit = {
            "eval_X": (stop_on[0],),
            "eval_y": (stop_on[1] if kind == "regression" else stop_on[1].astype(np.int64),),
            "callbacks": [lgb.early_stopping(20, verbose=False)],
        }
    if kind == "regression":
        model: Any = lgb.LGBMRegressor(**params)
        model.fit(x_train, y_train, **fit)
        return model.predict(x_test), model
    model = lgb.LGBMClassifier(**params)
    model.fit(x_train, y_train.astype(np.int64), **fit)
    proba = model.predict_proba(x_test)
    if kind == "binary":
        return proba[:, 1], model
    full = np.zeros((len(x_test), n_classes))
    full[:, model.classes_.astype(np.int64)] = proba  # a class the sample lacks scores 0
    return full, model


def quick_score(metric: str, y: np.ndarray, predicted: np.ndarray) -> float | None:
    """``metric`` of the quick model's output; None when it is undefined (one class)."""
    from sklearn import metrics as skm

    if metric in ("roc_auc", "pr_auc") and len(np.unique(y)) < 2:
        return None
    try:
        if metric == "roc_auc":
            return float(skm.roc_auc_score(y, predicted))
        if metric == "pr_auc":
            return float(skm.average_precision_score(y, predicted))
        if metric == "accuracy":
            return float(np.mean(np.argmax(predicted, axis=1) == y))
        return float(skm.r2_score(y, predicted))
    except ValueError:
        return None
