"""Does cross-validation rank FLAML's winning configuration as the test part does?

    .venv/bin/python benchmarks/automl_cv_vs_test.py [--dataset default] \
        [--results benchmarks/results/automl.json]

FLAML often wins a table of the AutoML benchmark with a tiny booster (20 trees of 4 leaves on
``default``, 12 of 4 on ``taxi``). Was the tiny model better, or did its one fit land well on
the test part? This reads a dataset ``automl.py`` prepared (``benchmarks/.cache/automl/NAME``;
run ``automl.py`` once first) and FLAML's chosen configuration from ``--results``, and fits
it, a logistic regression and LightGBM's defaults on the same stratified 5 folds of the train
part, as Shipyard's search does below ``CV_MAX_ROWS``. It prints each model's out-of-fold
ROC AUC (what a search selects on), the test ROC AUC of its bag of the five fold models, and
of a bag of 15 (three shuffles: the bag's own spread), beside Shipyard's out-of-fold and test
scores from the same results. When the out-of-fold and test orders disagree, no selection
rule that does not look at the test part picks the model that wins on it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache" / "automl"


def _flaml_model(info: dict[str, Any]) -> Any:
    """FLAML's chosen estimator with its configuration, as FLAML builds it."""
    config = dict(info["best_config"])
    if "log_max_bin" in config:
        config["max_bin"] = (1 << config.pop("log_max_bin")) - 1
    if info["best_estimator"] == "lgbm":
        return lgb.LGBMClassifier(verbose=-1, n_jobs=2, **config)
    if info["best_estimator"] == "xgboost":
        if "max_leaves" in config:
            config.update(grow_policy="lossguide", max_depth=0)
        return xgb.XGBClassifier(n_jobs=2, tree_method="hist", enable_categorical=True, **config)
    raise SystemExit(f"FLAML chose {info['best_estimator']}; this check knows lgbm and xgboost.")


def _linear(x: pd.DataFrame) -> Any:
    categorical = [c for c in x.columns if isinstance(x[c].dtype, pd.CategoricalDtype)]
    numeric = [c for c in x.columns if c not in categorical]
    prepare = make_column_transformer(
        (StandardScaler(), numeric), (OneHotEncoder(handle_unknown="ignore"), categorical)
    )
    return make_pipeline(prepare, LogisticRegression(max_iter=2000))


def frames(folder: Path, target: str) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray]:
    """A prepared dataset's train and test parts: features as LightGBM takes them (text as
    categories shared by both parts, numbers as floats) and the 0/1 target."""
    train = pd.read_parquet(folder / "train.parquet")
    test = pd.read_parquet(folder / "test.parquet")
    both = pd.concat([train, test], ignore_index=True)
    x = both.drop(columns=[target])
    for column in x.columns:
        if not pd.api.types.is_numeric_dtype(x[column]):
            x[column] = x[column].astype("category")
        else:
            x[column] = x[column].astype(float)
    n = len(train)
    return x.iloc[:n], train[target].to_numpy(), x.iloc[n:], test[target].to_numpy()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="default", help="a binary dataset automl.py prepared")
    ap.add_argument("--results", type=Path, default=HERE / "results" / "automl.json")
    args = ap.parse_args()
    folder = CACHE / args.dataset
    if not (folder / "train.parquet").exists():
        raise SystemExit(f"{folder} is missing: run benchmarks/automl.py once to prepare it.")
    meta = json.loads((folder / "meta.json").read_text())
    if meta["task"] != "binary":
        raise SystemExit(f"{args.dataset} is {meta['task']}; this check scores ROC AUC.")
    runs = {
        r["system"]: r
        for r in json.loads(args.results.read_text())["results"]
        if r["dataset"] == args.dataset and "test_metric" in r
    }
    if "flaml" not in runs:
        raise SystemExit(f"{args.results} has no FLAML run on {args.dataset}.")
    x, y, x_test, y_test = frames(folder, meta["target"])
    models = {
        f"FLAML's {runs['flaml']['info']['best_estimator']}": lambda: _flaml_model(
            runs["flaml"]["info"]
        ),
        "logistic regression": lambda: _linear(x),
        "LightGBM defaults": lambda: lgb.LGBMClassifier(verbose=-1, n_jobs=2),
    }
    print(
        f"{args.dataset}: {len(y):,} train rows ({int(y.sum())} positive), "
        f"{len(y_test):,} test rows ({int(y_test.sum())} positive)\n"
    )
    print("| model | out-of-fold ROC AUC | test, bag of 5 | test, bag of 15 |")
    print("|---|---:|---:|---:|")
    for name, make in models.items():
        oof, bag = np.zeros(len(y)), []
        for shuffle in range(3):
            folds = StratifiedKFold(5, shuffle=True, random_state=shuffle).split(x, y)
            for fit, held in folds:
                model = make().fit(x.iloc[fit], y[fit])
                if shuffle == 0:
                    oof[held] = model.predict_proba(x.iloc[held])[:, 1]
                bag.append(model.predict_proba(x_test)[:, 1])
        five, all_ = (roc_auc_score(y_test, np.mean(b, axis=0)) for b in (bag[:5], bag))
        print(f"| {name} | {roc_auc_score(y, oof):.4f} | {five:.4f} | {all_:.4f} |")
    print(f"| FLAML as it ran (one fit) | | {runs['flaml']['test_metric']:.4f} | |")
    if "shipyard" in runs:
        board = runs["shipyard"]["info"]["leaderboard"][0]
        print(
            f"| Shipyard as it ran ({board['family']}) | {board['valid_score']:.4f} | "
            f"{runs['shipyard']['test_metric']:.4f} | |"
        )


if __name__ == "__main__":
    main()
