"""How deep should boosted trees be on small tables? Stumps and four-leaf trees against 31.

    .venv/bin/python benchmarks/boosting_depth.py [--datasets default,stackoverflow,...]

Plain LightGBM on tables from ``automl.py``'s cache (prepared by it; binary ones), one
configuration per tree size, each with its number of rounds chosen by 5-fold stratified
cross-validation on the training part (early stopping after 50 rounds without gain), then
refit on the whole training part with those rounds and scored on the held-out test part.
It prints the cross-validated and the test ROC AUC of each size.

Measured 2026-12-02 (results/boosting_depth.md) on the ten binary tables of the two
benchmark sets: four-leaf trees or stumps beat 31 leaves out of fold on nine of ten (email
the exception), and on test on eight (email and mlc_churn the exceptions), by up to 0.05
(stackoverflow 0.7239 against 0.6705). Shipyard's LightGBM space began at four leaves, but
its warm start held no shallow configuration. Two ways to give it one were measured inside
the 60 s search and neither kept (benchmarks/README.md, "Shallow boosters"): a portfolio
learned from 16 candidates per family (its openers are shallow) scored lower on 6 of the
nine, and a shallow LightGBM preset for tables under 10,000 rows moved the twelve small
tables by +0.0005 ROC AUC on average, within noise, with mlc_churn falling below default
LightGBM as stackoverflow rose above it.
"""

from __future__ import annotations

import argparse
import json

import lightgbm as lgb
from automl_cv_vs_test import CACHE, frames
from sklearn.metrics import roc_auc_score

SIZES = {
    "31 leaves": {"num_leaves": 31, "learning_rate": 0.05},
    "8 leaves": {"num_leaves": 8, "learning_rate": 0.05, "feature_fraction": 0.8},
    "4 leaves": {"num_leaves": 4, "learning_rate": 0.1},
    "4 leaves, L2 10": {"num_leaves": 4, "learning_rate": 0.1, "lambda_l2": 10.0},
    "stumps": {"num_leaves": 2, "learning_rate": 0.2},
}
DEFAULT = (
    "default,stackoverflow,taxi,email,wa_churn,health_insurance,mlc_churn,lending_club,"
    "attrition,caravan"
)


def measure(name: str) -> dict[str, tuple[float, float]]:
    """Per tree size: (cross-validated ROC AUC, test ROC AUC)."""
    folder = CACHE / name
    if not (folder / "meta.json").exists():
        raise SystemExit(f"{name} is not in {CACHE}: run automl.py --datasets {name} first.")
    x, y, xt, yt = frames(folder, json.loads((folder / "meta.json").read_text())["target"])
    out = {}
    for size, extra in SIZES.items():
        params = {"objective": "binary", "metric": "auc", "min_data_in_leaf": 20,
                  "verbose": -1, "num_threads": 2, "seed": 0, **extra}  # fmt: skip
        cv = lgb.cv(params, lgb.Dataset(x, y), num_boost_round=2000, nfold=5, stratified=True,
                    seed=0, callbacks=[lgb.early_stopping(50, verbose=False)])  # fmt: skip
        rounds = len(cv["valid auc-mean"])
        model = lgb.train(params, lgb.Dataset(x, y), num_boost_round=rounds)
        out[size] = (cv["valid auc-mean"][-1], roc_auc_score(yt, model.predict(xt)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", default=DEFAULT, help="binary tables of automl.py's cache")
    args = ap.parse_args()
    print("| table | " + " | ".join(SIZES) + " |")
    print("|---|" + "---:|" * len(SIZES))
    for name in args.datasets.split(","):
        cells = [f"{cv:.4f} / {test:.4f}" for cv, test in measure(name).values()]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    print("\nEach cell: 5-fold CV ROC AUC on the training part / ROC AUC on the test part.")


if __name__ == "__main__":
    main()
