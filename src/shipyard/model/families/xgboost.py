"""XGBoost: histogram gradient boosting with native categoricals and early stopping."""

from __future__ import annotations

import json
import time
from typing import Any, ClassVar

import numpy as np

from shipyard.errors import InvalidInput
from shipyard.model.families._base import (
    Family,
    FitData,
    FitResult,
    IterationHook,
    balanced_weights,
    by_class,
    normalized,
)
from shipyard.types import ProblemType

__all__ = ["XGBoostFamily", "XGBoostModel"]

_OBJECTIVES: dict[str, dict[str, Any]] = {
    "binary": {"objective": "binary:logistic", "eval_metric": "logloss"},
    "multiclass": {"objective": "multi:softprob", "eval_metric": "mlogloss"},
    "regression": {"objective": "reg:squarederror", "eval_metric": "rmse"},
}


class XGBoostModel:
    """A fitted booster with Shipyard's state for it, kept off the library's object.

    ``iteration_range`` is the trees to score with (up to the best iteration); the thread
    count last set on the booster is remembered because ``set_param`` costs 0.3 ms a call.
    """

    def __init__(self, booster: Any) -> None:
        self.booster = booster
        self.iteration_range = _range(booster)
        self._threads: int | None = None

    def threads(self, wanted: int) -> Any:
        """The booster, set to use ``wanted`` threads."""
        if self._threads != wanted:
            self.booster.set_param({"nthread": wanted})
            self._threads = wanted
        return self.booster

    def __getstate__(self) -> dict[str, Any]:
        return {"booster": self.booster, "iteration_range": self.iteration_range}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._threads = None


def _model(estimator: Any) -> XGBoostModel:
    """The wrapper; bundles written before it existed hold the bare booster."""
    return estimator if isinstance(estimator, XGBoostModel) else XGBoostModel(estimator)


class XGBoostFamily(Family):
    """Gradient-boosted trees with XGBoost (``hist``, categorical codes as categories)."""

    name = "xgboost"
    iterative = True
    defaults: ClassVar[dict[str, Any]] = {
        "learning_rate": 0.05,
        "max_depth": 6,
        "min_child_weight": 1.0,
        "subsample": 0.8,
        "colsample_bytree": 0.8,
        "reg_lambda": 1.0,
        "num_boost_round": 1000,
        "early_stopping_rounds": 50,
    }

    def suggest(self, trial: Any, problem: ProblemType) -> dict[str, Any]:
        p = self.name
        out = {
            "learning_rate": trial.suggest_float(f"{p}.learning_rate", 0.01, 0.3, log=True),
            "max_depth": trial.suggest_int(f"{p}.max_depth", 2, 10),
            "min_child_weight": trial.suggest_float(f"{p}.min_child_weight", 0.5, 50, log=True),
            "subsample": trial.suggest_float(f"{p}.subsample", 0.5, 1.0),
            "colsample_bytree": trial.suggest_float(f"{p}.colsample_bytree", 0.4, 1.0),
            "reg_lambda": trial.suggest_float(f"{p}.reg_lambda", 1e-3, 30.0, log=True),
        }
        if problem != "regression":
            out["balanced"] = trial.suggest_categorical(f"{p}.balanced", [False, True])
        return out

    def fit(
        self,
        data: FitData,
        params: dict[str, Any] | None = None,
        seed: int = 0,
        *,
        on_iteration: IterationHook | None = None,
        threads: int = 0,
    ) -> FitResult:
        import xgboost as xgb

        chosen, balanced = self.resolve_params(params, data.problem)
        rounds = int(chosen.pop("num_boost_round"))
        patience = int(chosen.pop("early_stopping_rounds"))
        booster_params = {
            **_OBJECTIVES[data.problem],
            **chosen,
            "tree_method": "hist",
            "seed": seed,
            "nthread": threads or -1,
            "verbosity": 0,
        }
        if data.problem == "multiclass":
            booster_params["num_class"] = data.n_classes
        started = time.perf_counter()
        types = _feature_types(data.x_train.shape[1], data.categorical)
        dtrain = xgb.DMatrix(
            data.x_train,
            data.y_train,
            weight=balanced_weights(data.problem, data.y_train, balanced),
            feature_types=types,
            enable_categorical=bool(data.categorical),
        )
        evals = [(dtrain, "train")]
        has_valid = data.x_valid is not None and data.y_valid is not None
        if has_valid:
            evals.append(
                (
                    xgb.DMatrix(
                        data.x_valid,
                        data.y_valid,
                        feature_types=types,
                        enable_categorical=bool(data.categorical),
                    ),
                    "valid",
                )
            )
        record: dict[str, Any] = {}
        stopped: list[str] = []
        callbacks = [_hook_callback(on_iteration, stopped)] if on_iteration and has_valid else None
        try:
            booster = xgb.train(
                booster_params,
                dtrain,
                num_boost_round=rounds,
                evals=evals,
                early_stopping_rounds=patience if has_valid else None,
                evals_result=record,
                verbose_eval=False,
                callbacks=callbacks,
            )
        except xgb.core.XGBoostError as exc:
            raise InvalidInput(f"XGBoost could not fit these parameters: {exc}") from exc
        metric = booster_params["eval_metric"]
        curves = {f"{split}_loss": [float(v) for v in record[split][metric]] for split in record}
        best = _best_rounds(booster, has_valid)
        return FitResult(
            estimator=XGBoostModel(booster),
            params={
                **chosen,
                "balanced": balanced,
                "num_boost_round": rounds,
                "early_stopping_rounds": patience,
            },
            curves=curves,
            best_iteration=int(best),
            fit_seconds=time.perf_counter() - started,
            stopped=stopped[0] if stopped else None,
        )

    def refit_params(self, fit: FitResult, grow: float = 1.0) -> dict[str, Any]:
        return {**fit.params, "num_boost_round": self.refit_rounds(fit, grow)}

    def upgrade(self, estimator: Any) -> Any:
        if not isinstance(estimator, XGBoostModel):  # older bundles kept state on the booster
            for stale in ("shipyard_threads", "shipyard_range"):
                vars(estimator).pop(stale, None)
        return _model(estimator)

    def predict(self, estimator: Any, x: np.ndarray, *, threads: int = 0) -> np.ndarray:
        model = _model(estimator)
        booster = model.threads(threads or -1)
        return np.asarray(booster.inplace_predict(x, iteration_range=model.iteration_range))

    def contributions(self, estimator: Any, x: np.ndarray) -> np.ndarray:
        model = _model(estimator)
        values = model.booster.predict(
            _dmatrix(model.booster, x), pred_contribs=True, iteration_range=model.iteration_range
        )
        return by_class(values, len(x), x.shape[1] + 1)

    def raw_score(self, estimator: Any, x: np.ndarray) -> np.ndarray:
        model = _model(estimator)
        values = model.booster.predict(
            _dmatrix(model.booster, x), output_margin=True, iteration_range=model.iteration_range
        )
        return np.asarray(values, dtype=np.float64).reshape(len(x), -1)

    def importance(self, estimator: Any, n_features: int) -> np.ndarray:
        scores = _model(estimator).booster.get_score(importance_type="total_gain")
        out = np.zeros(n_features)
        for key, value in scores.items():
            out[int(key[1:])] = value
        return normalized(out)

    def tree_stats(self, estimator: Any, params: dict[str, Any]) -> dict[str, Any] | None:
        limit = int(params.get("max_depth", 6))
        if limit <= 0:
            return None
        dumps = _model(estimator).booster.get_dump(dump_format="json")
        if not dumps:
            return None
        depths = [_depth(json.loads(tree)) for tree in dumps]
        share = float(np.mean([d >= limit for d in depths]))
        return {"limit": "max_depth", "value": limit, "share_at_limit": share}


def _dmatrix(estimator: Any, x: np.ndarray) -> Any:
    import xgboost as xgb

    types = estimator.feature_types
    return xgb.DMatrix(x, feature_types=types, enable_categorical=bool(types and "c" in types))


def _range(estimator: Any) -> tuple[int, int]:
    """Trees up to the best iteration; (0, 0), every tree, after a refit without validation."""
    best = estimator.attr("best_iteration")
    return (0, int(best) + 1 if best is not None else 0)


def _feature_types(width: int, categorical: list[int]) -> list[str]:
    cats = set(categorical)
    return ["c" if i in cats else "q" for i in range(width)]


def _depth(node: dict[str, Any]) -> int:
    children = node.get("children")
    if not children:
        return 0
    return 1 + max(_depth(c) for c in children)


def _best_rounds(booster: Any, has_valid: bool) -> int:
    """Rounds up to the best validation score, or all of them. A hook that stops the first
    round stops it before early stopping has recorded a best iteration (XGBoost then raises
    on reading it): every round is the best."""
    if has_valid and "best_iteration" in booster.attributes():
        return int(booster.best_iteration) + 1
    return int(booster.num_boosted_rounds())


def _hook_callback(hook: IterationHook, stopped: list[str]) -> Any:
    """Adapt an IterationHook to XGBoost's TrainingCallback protocol."""
    import xgboost as xgb

    class Hook(xgb.callback.TrainingCallback):
        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            valid = evals_log.get("valid")
            if not valid:
                return False
            loss = float(next(iter(valid.values()))[-1])
            if hook(epoch + 1, loss):
                stopped.append("hook")
                return True
            return False

    return Hook()
