"""Regularized linear models: logistic regression for classes, ridge for numbers.

The encoder hands over category *codes*, which mean nothing on a line, so the pipeline
one-hot encodes them; numbers get median imputation (with a missing indicator) and scaling.
"""

from __future__ import annotations

import time
import warnings
from typing import Any, ClassVar

import numpy as np

from shipyard.errors import InvalidInput
from shipyard.train.families._base import (
    Family,
    FitResult,
    IterationHook,
    balanced_weights,
    normalized,
)
from shipyard.types import ProblemType

__all__ = ["LinearFamily"]


class LinearFamily(Family):
    """L2-regularized logistic regression (classification) or ridge (regression)."""

    name = "linear"
    defaults: ClassVar[dict[str, Any]] = {"C": 1.0, "alpha": 1.0, "max_iter": 1000}

    def suggest(self, trial: Any, problem: ProblemType) -> dict[str, Any]:
        p = self.name
        if problem == "regression":
            return {"alpha": trial.suggest_float(f"{p}.alpha", 1e-3, 1e3, log=True)}
        return {
            "C": trial.suggest_float(f"{p}.C", 1e-3, 1e2, log=True),
            "balanced": trial.suggest_categorical(f"{p}.balanced", [False, True]),
        }

    def fit(
        self,
        problem: ProblemType,
        n_classes: int,
        x_train: np.ndarray,
        y_train: np.ndarray,
        x_valid: np.ndarray | None,
        y_valid: np.ndarray | None,
        categorical: list[int],
        params: dict[str, Any] | None = None,
        seed: int = 0,
        *,
        on_iteration: IterationHook | None = None,
        threads: int = 0,
    ) -> FitResult:
        from sklearn.compose import ColumnTransformer
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression, Ridge
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        chosen, balanced = self.resolve_params(params)
        cats = sorted(set(categorical))
        nums = [i for i in range(x_train.shape[1]) if i not in cats]
        parts: list[tuple[str, Any, list[int]]] = []
        if nums:
            numeric = Pipeline(
                [
                    (
                        "impute",
                        SimpleImputer(
                            strategy="median", add_indicator=True, keep_empty_features=True
                        ),
                    ),
                    ("scale", StandardScaler()),
                ]
            )
            parts.append(("num", numeric, nums))
        if cats:
            onehot = Pipeline(
                [
                    ("impute", SimpleImputer(strategy="constant", fill_value=-1.0)),
                    ("onehot", OneHotEncoder(handle_unknown="ignore", min_frequency=5)),
                ]
            )
            parts.append(("cat", onehot, cats))
        if problem == "regression":
            head: Any = Ridge(alpha=float(chosen["alpha"]), random_state=seed)
        else:
            head = LogisticRegression(
                C=float(chosen["C"]), max_iter=int(chosen["max_iter"]), random_state=seed
            )
        estimator = Pipeline([("prepare", ColumnTransformer(parts)), ("model", head)])
        started = time.perf_counter()
        notes: list[str] = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                estimator.fit(
                    x_train,
                    y_train,
                    model__sample_weight=balanced_weights(problem, y_train, balanced),
                )
            notes = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
        except ValueError as exc:
            raise InvalidInput(f"The linear model could not fit: {exc}") from exc
        return FitResult(
            estimator=estimator,
            params={**chosen, "balanced": balanced, **({"notes": notes[:1]} if notes else {})},
            fit_seconds=time.perf_counter() - started,
        )

    def predict(self, estimator: Any, x: np.ndarray, *, threads: int = 0) -> np.ndarray:
        model = estimator.named_steps["model"]
        if not hasattr(model, "predict_proba"):
            return np.asarray(estimator.predict(x))
        proba = estimator.predict_proba(x)
        return np.asarray(proba[:, 1] if proba.shape[1] == 2 else proba)

    def contributions(self, estimator: Any, x: np.ndarray) -> np.ndarray:
        """coefficient x transformed value, summed back onto each input feature."""
        model = estimator.named_steps["model"]
        z = estimator.named_steps["prepare"].transform(x)
        z = z.toarray() if hasattr(z, "toarray") else np.asarray(z)
        coef = np.atleast_2d(model.coef_)  # (k, p)
        owners = _owners(estimator)
        out = np.zeros((len(x), coef.shape[0], x.shape[1] + 1))
        parts = z[:, None, :] * coef[None, :, :]
        for j, owner in enumerate(owners):
            out[:, :, owner] += parts[:, :, j]
        out[:, :, -1] = np.atleast_1d(model.intercept_)
        return out

    def raw_score(self, estimator: Any, x: np.ndarray) -> np.ndarray:
        model = estimator.named_steps["model"]
        if hasattr(model, "decision_function"):
            values = estimator.decision_function(x)
        else:
            values = estimator.predict(x)
        return np.asarray(values, dtype=np.float64).reshape(len(x), -1)

    def importance(self, estimator: Any, n_features: int) -> np.ndarray:
        """|standardized coefficient| summed back onto each input feature."""
        coef = np.atleast_2d(estimator.named_steps["model"].coef_)
        weight = np.abs(coef).sum(axis=0)
        out = np.zeros(n_features)
        for value, owner in zip(weight, _owners(estimator), strict=True):
            out[owner] += value
        return normalized(out)


def _owners(estimator: Any) -> list[int]:
    """The input feature behind each transformed column.

    Output names look like num__x3, num__missingindicator_x3, cat__x5_2.0: x<i> is input i.
    """
    owners = []
    for name in estimator.named_steps["prepare"].get_feature_names_out():
        token = name.split("__", 1)[1].removeprefix("missingindicator_")
        owners.append(int(token[1:].split("_", 1)[0]))
    return owners
