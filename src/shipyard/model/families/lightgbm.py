"""LightGBM: gradient-boosted trees with native categoricals and missing values."""

from __future__ import annotations

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

__all__ = ["LightGBMFamily"]

_OBJECTIVES: dict[str, dict[str, Any]] = {
    "binary": {"objective": "binary", "metric": "binary_logloss"},
    "multiclass": {"objective": "multiclass", "metric": "multi_logloss"},
    "regression": {"objective": "regression", "metric": "l2"},
}


class LightGBMFamily(Family):
    """Gradient-boosted trees with LightGBM: native categoricals and missing values."""

    name = "lightgbm"
    iterative = True
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

    def suggest(self, trial: Any, problem: ProblemType) -> dict[str, Any]:
        p = self.name
        out = {
            "learning_rate": trial.suggest_float(f"{p}.learning_rate", 0.01, 0.3, log=True),
            "num_leaves": trial.suggest_int(f"{p}.num_leaves", 4, 256, log=True),
            "min_data_in_leaf": trial.suggest_int(f"{p}.min_data_in_leaf", 2, 200, log=True),
            "feature_fraction": trial.suggest_float(f"{p}.feature_fraction", 0.4, 1.0),
            "bagging_fraction": trial.suggest_float(f"{p}.bagging_fraction", 0.5, 1.0),
            "bagging_freq": 1,
            "lambda_l2": trial.suggest_float(f"{p}.lambda_l2", 1e-3, 30.0, log=True),
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
        import lightgbm as lgb

        chosen, balanced = self.resolve_params(params, data.problem)
        rounds = int(chosen.pop("num_boost_round"))
        patience = int(chosen.pop("early_stopping_rounds"))
        objective = dict(_OBJECTIVES[data.problem])
        if data.problem == "multiclass":
            objective["num_class"] = data.n_classes
        booster_params = {
            **objective,
            **chosen,
            "seed": seed,
            "verbosity": -1,
            "deterministic": True,
            "force_col_wise": True,
            "num_threads": threads,
        }
        started = time.perf_counter()
        train_set = lgb.Dataset(
            data.x_train,
            data.y_train,
            weight=balanced_weights(data.problem, data.y_train, balanced),
            categorical_feature=data.categorical or "auto",
            free_raw_data=False,
        )
        valid_sets, names = [train_set], ["train"]
        has_valid = data.x_valid is not None and data.y_valid is not None
        if has_valid:
            valid_sets.append(lgb.Dataset(data.x_valid, data.y_valid, reference=train_set))
            names.append("valid")
        record: dict[str, dict[str, list[float]]] = {}
        callbacks: list[Any] = [lgb.record_evaluation(record)]
        if has_valid:
            callbacks.append(lgb.early_stopping(patience, verbose=False))
        stopped: list[str] = []
        if on_iteration is not None and has_valid:
            callbacks.append(_hook_callback(on_iteration, stopped))
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

    def predict(self, estimator: Any, x: np.ndarray, *, threads: int = 0) -> np.ndarray:
        return np.asarray(
            estimator.predict(
                x, num_iteration=estimator.best_iteration or None, num_threads=threads
            )
        )

    def importance(self, estimator: Any, n_features: int) -> np.ndarray:
        return normalized(estimator.feature_importance(importance_type="gain"))

    def contributions(self, estimator: Any, x: np.ndarray) -> np.ndarray:
        values = estimator.predict(
            x, num_iteration=estimator.best_iteration or None, pred_contrib=True, num_threads=1
        )
        return by_class(values, len(x), x.shape[1] + 1)

    def raw_score(self, estimator: Any, x: np.ndarray) -> np.ndarray:
        values = estimator.predict(
            x, num_iteration=estimator.best_iteration or None, raw_score=True, num_threads=1
        )
        return np.asarray(values, dtype=np.float64).reshape(len(x), -1)

    def tree_stats(self, estimator: Any, params: dict[str, Any]) -> dict[str, Any] | None:
        trees = estimator.dump_model(num_iteration=estimator.best_iteration or None)["tree_info"]
        if not trees:
            return None
        depth_limit = int(params.get("max_depth", -1) or -1)
        if depth_limit > 0:
            depths = [_depth(t["tree_structure"]) for t in trees]
            share = float(np.mean([d >= depth_limit for d in depths]))
            return {"limit": "max_depth", "value": depth_limit, "share_at_limit": share}
        leaf_limit = int(params.get("num_leaves", 31))
        share = float(np.mean([t["num_leaves"] >= leaf_limit for t in trees]))
        return {"limit": "num_leaves", "value": leaf_limit, "share_at_limit": share}


def _depth(node: dict[str, Any]) -> int:
    if "leaf_index" in node or "left_child" not in node:
        return 0
    return 1 + max(_depth(node["left_child"]), _depth(node["right_child"]))


def _hook_callback(hook: IterationHook, stopped: list[str]) -> Any:
    import lightgbm as lgb

    best: dict[str, Any] = {"loss": np.inf, "iteration": 0, "results": []}

    def callback(env: Any) -> None:
        for data_name, _metric, value, *_ in env.evaluation_result_list:
            if data_name != "valid":
                continue
            if value < best["loss"]:
                best.update(loss=value, iteration=env.iteration, results=env.evaluation_result_list)
            if hook(env.iteration + 1, float(value)):
                stopped.append("hook")
                raise lgb.callback.EarlyStopException(int(best["iteration"]), best["results"])

    callback.order = 40  # type: ignore[attr-defined]  # after record_evaluation / early stop
    return callback
