"""Model families: how each one fits on encoded features and predicts scores.

A family turns an encoded matrix into a fitted estimator. AutoML searches over families and
their parameters; a single ``shipyard train`` uses one family with strong defaults.
"""

from __future__ import annotations

import abc
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from shipyard.errors import InvalidInput
from shipyard.types import ProblemType

__all__ = ["FAMILIES", "Family", "FitResult", "LightGBMFamily", "get_family"]


@dataclass
class FitResult:
    """A fitted estimator, its parameters and its per-iteration learning curves."""

    estimator: Any
    params: dict[str, Any]
    curves: dict[str, list[float]] = field(default_factory=dict)
    best_iteration: int | None = None
    fit_seconds: float = 0.0


class Family(abc.ABC):
    """A model family: fit on encoded features, predict raw scores."""

    name: ClassVar[str]

    @abc.abstractmethod
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
    ) -> FitResult:
        """Fit, early-stopping on the validation set when one is given."""

    @abc.abstractmethod
    def predict(self, estimator: Any, x: np.ndarray, *, threads: int = 0) -> np.ndarray:
        """Scores: P(positive) for binary, class probabilities (n, k) for multiclass,
        values for regression."""


class LightGBMFamily(Family):
    """Gradient-boosted trees with LightGBM: native categoricals and missing values."""

    name = "lightgbm"
    defaults: ClassVar[dict[str, Any]] = {
        "learning_rate": 0.05,
        "num_leaves": 31,
        "min_data_in_leaf": 40,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "num_boost_round": 1000,
        "early_stopping_rounds": 50,
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
    ) -> FitResult:
        import lightgbm as lgb

        chosen = {**self.defaults, **(params or {})}
        rounds = int(chosen.pop("num_boost_round"))
        patience = int(chosen.pop("early_stopping_rounds"))
        objective = {
            "binary": {"objective": "binary", "metric": "binary_logloss"},
            "multiclass": {
                "objective": "multiclass",
                "metric": "multi_logloss",
                "num_class": n_classes,
            },
            "regression": {"objective": "regression", "metric": "l2"},
        }[problem]
        booster_params = {
            **objective,
            **chosen,
            "seed": seed,
            "verbosity": -1,
            "deterministic": True,
            "force_col_wise": True,
        }
        started = time.perf_counter()
        train_set = lgb.Dataset(
            x_train, y_train, categorical_feature=categorical or "auto", free_raw_data=False
        )
        valid_sets, names = [train_set], ["train"]
        if x_valid is not None and y_valid is not None:
            valid_sets.append(lgb.Dataset(x_valid, y_valid, reference=train_set))
            names.append("valid")
        record: dict[str, dict[str, list[float]]] = {}
        callbacks = [lgb.record_evaluation(record)]
        if len(valid_sets) > 1:
            callbacks.append(lgb.early_stopping(patience, verbose=False))
        try:
            booster = lgb.train(
                booster_params,
                train_set,
                num_boost_round=rounds,
                valid_sets=valid_sets,
                valid_names=names,
                callbacks=callbacks,
            )
        except lgb.basic.LightGBMError as exc:
            raise InvalidInput(f"LightGBM could not fit these parameters: {exc}") from exc
        metric = booster_params["metric"]
        curves = {f"{split}_loss": [float(v) for v in record[split][metric]] for split in record}
        best = booster.best_iteration or booster.current_iteration()
        return FitResult(
            estimator=booster,
            params={**chosen, "num_boost_round": rounds, "early_stopping_rounds": patience},
            curves=curves,
            best_iteration=int(best),
            fit_seconds=time.perf_counter() - started,
        )

    def predict(self, estimator: Any, x: np.ndarray, *, threads: int = 0) -> np.ndarray:
        return np.asarray(
            estimator.predict(
                x, num_iteration=estimator.best_iteration or None, num_threads=threads
            )
        )


FAMILIES: dict[str, type[Family]] = {LightGBMFamily.name: LightGBMFamily}


def get_family(name: str) -> Family:
    """The family called ``name``.

    Raises:
        InvalidInput: No such family; the message lists the known ones.
    """
    try:
        return FAMILIES[name]()
    except KeyError:
        from shipyard.errors import did_you_mean

        raise InvalidInput(
            f"Unknown model family '{name}'.{did_you_mean(name, FAMILIES)} "
            f"Known families: {', '.join(sorted(FAMILIES))}."
        ) from None
