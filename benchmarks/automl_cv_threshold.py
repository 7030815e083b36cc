"""Where k-fold selection stops paying: holdout vs cross-validated model selection by size.

    .venv/bin/python benchmarks/automl_cv_threshold.py [--datasets adult,default]
        [--sizes 500,2000,8000,20000] [--seeds 3] [--candidates 8]

Reads the datasets ``automl.py`` prepared (``benchmarks/.cache/automl``). For every dataset,
pool size ``n`` and seed, ``n`` rows are drawn from the dataset's train part (the pool a
search sees as train + validation); the dataset's own test part scores the result. The same
candidates (LightGBM's defaults and random draws from its search space, XGBoost's defaults)
are then selected two ways, as Shipyard's search would:

- holdout: fit on 82% of the pool, early-stopped on the other 18% (Shipyard's 70/15 train /
  valid split), pick the best validation score, refit it on the pool;
- 5-fold CV: fit every fold, pick the best fold mean; score the bag of the fold models and
  a refit on the pool.

Refits run a booster's best iteration times the rows they gain, as Shipyard's do since
2026-12-02 (``results/automl_cv_threshold.md`` was measured before, with the best
iteration alone). It prints, per size, the mean test score of each (holdout+refit,
cv+bag, cv+refit), the oracle (the candidate best on test) and the seconds spent
selecting. The threshold below which Shipyard cross-validates
(``shipyard.automl.CV_MAX_ROWS``) is the size past which CV no longer selects better than
the holdout by more than the noise.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd

from shipyard.automl import make_folds, score
from shipyard.model import FeatureEncoder, FitData, get_family

CACHE = Path(__file__).resolve().parent / ".cache" / "automl"


def load(name: str) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    folder = CACHE / name
    if not folder.is_dir():
        raise SystemExit(f"{folder} is missing: run benchmarks/automl.py --datasets {name} first")
    meta = json.loads((folder / "meta.json").read_text())
    return meta, pd.read_parquet(folder / "train.parquet"), pd.read_parquet(folder / "test.parquet")


def positive(column: pd.Series, meta: dict[str, Any]) -> np.ndarray:
    """The binary target as 0/1 (the prepared parquet holds 0/1 or the labels)."""
    if column.dtype.kind in "biu":
        return column.to_numpy(np.int64)
    return (column.astype(str) == str(meta["positive"])).to_numpy(np.int64)


def candidates(count: int, seed: int) -> list[tuple[str, dict[str, Any]]]:
    """LightGBM's and XGBoost's defaults, and random draws from LightGBM's space."""
    out: list[tuple[str, dict[str, Any]]] = [("lightgbm", {}), ("xgboost", {})]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    family = get_family("lightgbm")
    for _ in range(count - 2):
        trial = study.ask()
        out.append(("lightgbm", family.suggest(trial, "binary")))
    return out


def fit_predict(
    name: str, params: dict[str, Any], x: np.ndarray, y: np.ndarray, x_valid: Any, y_valid: Any
) -> tuple[Any, Any]:
    family = get_family(name)
    data = FitData("binary", 2, x, y, x_valid, y_valid, CATEGORICAL)
    return family, family.fit(data, params, 0, threads=1)


CATEGORICAL: list[int] = []


def one_cell(
    cands: list[tuple[str, dict[str, Any]]],
    x: np.ndarray,
    y: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    seed: int,
) -> dict[str, float]:
    def auc(y_true: np.ndarray, s: np.ndarray) -> float:
        return score("roc_auc", "binary", y_true, s)

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    cut = int(len(y) * 70 / 85)
    tr, va = order[:cut], order[cut:]
    started = time.perf_counter()
    holdout = []
    for name, params in cands:
        family, fit = fit_predict(name, params, x[tr], y[tr], x[va], y[va])
        holdout.append((auc(y[va], family.predict(fit.estimator, x[va], threads=1)), fit))
    holdout_seconds = time.perf_counter() - started
    folds = make_folds(y, stratify=True, seed=seed, k=5, repeats=1)
    started = time.perf_counter()
    cv: list[tuple[float, list[Any]]] = []
    for name, params in cands:
        fits, scores = [], []
        for rows, held in folds.splits:
            family, fit = fit_predict(name, params, x[rows], y[rows], x[held], y[held])
            scores.append(auc(y[held], family.predict(fit.estimator, x[held], threads=1)))
            fits.append(fit)
        cv.append((float(np.mean(scores)), fits))
    cv_seconds = time.perf_counter() - started

    def refit_test(i: int, fit: Any, grow: float) -> float:
        # as Shipyard refits: a booster for its best iteration times the rows it gains
        family = get_family(cands[i][0])
        params = family.refit_params(fit, grow)
        refit = family.fit(
            FitData("binary", 2, x, y, None, None, CATEGORICAL), params, 0, threads=1
        )
        return auc(y_test, family.predict(refit.estimator, x_test, threads=1))

    h = int(np.argmax([s for s, _ in holdout]))
    c = int(np.argmax([s for s, _ in cv]))
    c_family = get_family(cands[c][0])
    bag = np.mean([c_family.predict(f.estimator, x_test, threads=1) for f in cv[c][1]], axis=0)
    c_fold = cv[c][1][0]
    c_fold.best_iteration = round(np.mean([f.best_iteration or 1 for f in cv[c][1]]))
    oracle = [
        auc(y_test, get_family(cands[i][0]).predict(holdout[i][1].estimator, x_test, threads=1))
        for i in range(len(cands))
    ]
    return {
        "holdout_refit": refit_test(h, holdout[h][1], len(y) / len(tr)),
        "cv_bag": auc(y_test, bag),
        "cv_refit": refit_test(c, c_fold, folds.k / (folds.k - 1)),
        "oracle_on_train_part": max(oracle),
        "holdout_seconds": holdout_seconds,
        "cv_seconds": cv_seconds,
    }


def main() -> None:
    global CATEGORICAL
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--datasets", default="adult,default")
    ap.add_argument("--sizes", default="500,2000,5000,10000,20000")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--candidates", type=int, default=8)
    args = ap.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for name in args.datasets.split(","):
        meta, train, test = load(name)
        target = meta["target"]
        encoder = FeatureEncoder(exclude=[target]).fit(train)
        CATEGORICAL = list(encoder.categorical_indices_)
        x_all = encoder.encode_frame(train).matrix
        y_all, y_test = positive(train[target], meta), positive(test[target], meta)
        x_test = encoder.encode_frame(test).matrix
        for n in sizes:
            if n > len(y_all):
                continue
            for seed in range(args.seeds):
                pick = np.random.default_rng(1000 + seed).choice(len(y_all), n, replace=False)
                cands = candidates(args.candidates, seed)
                cell = one_cell(cands, x_all[pick], y_all[pick], x_test, y_test, seed)
                rows.append({"dataset": name, "n": n, "seed": seed, **cell})
                print(json.dumps(rows[-1]), flush=True)
    table = (
        pd.DataFrame(rows).groupby(["dataset", "n"]).mean(numeric_only=True).drop(columns="seed")
    )
    table["cv_gain"] = table[["cv_bag", "cv_refit"]].max(axis=1) - table["holdout_refit"]
    print(table.round(4).to_string())


if __name__ == "__main__":
    main()
