"""Does cross-validation rank a few fixed models as the held-out test part does?

    .venv/bin/python benchmarks/automl_cv_vs_test.py [--dataset default]

Reads a dataset ``automl.py`` prepared (``benchmarks/.cache/automl/NAME/``, run ``automl.py``
once first) and fits a logistic regression and three LightGBM configurations, among them
FLAML's winner on ``default`` (20 trees of 4 leaves), on the same stratified 5 folds of the
train part, as Shipyard's search does below ``CV_MAX_ROWS``. It prints each model's
out-of-fold ROC AUC (what the search selects on) beside the test ROC AUC of its bag of
fold models (what it would ship). When the two orders disagree, no selection rule that
does not look at the test part picks the model that wins on it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

CACHE = Path(__file__).resolve().parent / ".cache" / "automl"

MODELS = {
    "logistic regression": None,
    "LightGBM, FLAML's winner (20 x 4 leaves)": {
        "n_estimators": 20,
        "num_leaves": 4,
        "min_child_samples": 19,
        "learning_rate": 0.2024,
        "colsample_bytree": 0.88,
        "reg_alpha": 0.0148,
        "reg_lambda": 0.0545,
    },
    "LightGBM, 300 stumps": {"n_estimators": 300, "num_leaves": 2, "learning_rate": 0.05},
    "LightGBM defaults": {},
}


def _matrix(frame: pd.DataFrame, target: str) -> np.ndarray:
    x = frame.drop(columns=[target])
    return pd.get_dummies(x, drop_first=True, dtype=float).to_numpy(dtype=float)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="default", help="a binary dataset automl.py prepared")
    args = ap.parse_args()
    folder = CACHE / args.dataset
    if not (folder / "train.parquet").exists():
        raise SystemExit(f"{folder} is missing: run benchmarks/automl.py once to prepare it.")
    target = pd.read_json(folder / "meta.json", typ="series")["target"]
    train = pd.read_parquet(folder / "train.parquet")
    test = pd.read_parquet(folder / "test.parquet")
    x, y = _matrix(train, target), train[target].to_numpy()
    x_test, y_test = _matrix(test, target), test[target].to_numpy()
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(x, y))
    print(f"{args.dataset}: {len(y):,} train rows ({int(y.sum())} positive), "
          f"{len(y_test):,} test rows ({int(y_test.sum())} positive)")  # fmt: skip
    print("| model | out-of-fold ROC AUC | test ROC AUC (bag of 5) |\n|---|---:|---:|")
    for name, params in MODELS.items():
        oof, bag = np.zeros(len(y)), []
        for fit, held in folds:
            model = (
                make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
                if params is None
                else lgb.LGBMClassifier(verbose=-1, n_jobs=2, **params)
            )
            model.fit(x[fit], y[fit])
            oof[held] = model.predict_proba(x[held])[:, 1]
            bag.append(model.predict_proba(x_test)[:, 1])
        test_auc = roc_auc_score(y_test, np.mean(bag, axis=0))
        print(f"| {name} | {roc_auc_score(y, oof):.4f} | {test_auc:.4f} |")


if __name__ == "__main__":
    main()
