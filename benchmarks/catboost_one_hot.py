"""CatBoost's categoricals: target statistics (its CPU default) or one-hot up to N values.

    .venv/bin/python benchmarks/catboost_one_hot.py [--sizes 2 10 255] [--seeds 3]
        [--also diamonds,adult]

CatBoost encodes a categorical of more than ``one_hot_max_size`` values (2 on CPU) with
ordered target statistics, which cost most of its fit time on tables with a few
low-cardinality columns. This fits Shipyard's CatBoost defaults on the portfolio's learning
tables that have categorical columns (``learn_portfolio.py``; none is an AutoML benchmark
table), each on seeded 75/25 splits, one thread, once per ``one_hot_max_size``, and prints
the fit seconds and the validation score (the search's default metric) of each. ``--also``
adds tables from ``automl.py``'s cache (prepared by it) as larger examples.

Measured 2026-12-02 (``--also diamonds,adult``, 3 seeds): one-hot up to 10 values was level
or better on 11 of the 12 learning tables and up to 5.6x faster, but 1.3% worse on diamonds
(RMSE 562 against 555), whose ordinal grades the target statistics capture; inside a 60 s
search diamonds' final RMSE went from 527.6 to 530.2, and adult (41-value columns, still
target statistics) gained no time. So CatBoost keeps its default. Letting the search choose
would need the portfolio relearned for a new dimension, on evidence that points both ways.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np
import pandas as pd
from learn_portfolio import HERE, encoded, table, tables

from shipyard.automl import score
from shipyard.automl._metrics import higher_is_better
from shipyard.model import FitData, get_family, infer_problem

AUTOML_CACHE = HERE / ".cache" / "automl"


def fit_once(data: FitData, metric: str, size: int) -> tuple[float, float]:
    """Seconds and validation score of CatBoost's defaults with ``one_hot_max_size``."""
    family = get_family("catboost")
    started = time.perf_counter()
    fit = family.fit(data, {"one_hot_max_size": size}, 0, threads=1)
    seconds = time.perf_counter() - started
    scores = family.predict(fit.estimator, data.x_valid, threads=1)
    return seconds, score(metric, data.problem, np.asarray(data.y_valid), scores)


def splits(frame: pd.DataFrame, target: str, problem: Any, seeds: int) -> list[FitData]:
    out = []
    for seed in range(seeds):
        order = np.random.default_rng(seed).permutation(len(frame))
        cut = int(0.75 * len(frame))
        _, data = encoded(problem, target, frame.iloc[order[:cut]], frame.iloc[order[cut:]])
        out.append(data)
    return out


def sources(also: list[str]) -> dict[str, tuple[pd.DataFrame, str, Any, str]]:
    """name -> (frame, target, problem, origin) for the tables with categorical columns."""
    out = {}
    for name, meta in tables().items():
        frame, problem = table(name, meta)
        out[name] = (frame, meta["target"], problem, "learning")
    for name in also:
        folder = AUTOML_CACHE / name
        meta = json.loads((folder / "meta.json").read_text())
        frame = pd.read_parquet(folder / "train.parquet")
        task = meta["task"]
        problem = infer_problem(
            frame[meta["target"]], problem_type=None if task == "binary" else task
        )
        out[name] = (frame, meta["target"], problem, "benchmark")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2, 10, 255])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--also", default="", help="automl.py tables, comma-separated")
    args = parser.parse_args()
    base, *others = args.sizes
    header = " | ".join(f"{s}: s, score" for s in args.sizes)
    print(
        f"| table | rows | categoricals | {header} | "
        + " | ".join(f"{s} vs {base}: faster, better" for s in others)
        + " |"
    )
    print("|---" * (3 + len(args.sizes) + len(others)) + "|")
    tally = {s: [0, 0] for s in others}
    for name, (frame, target, problem, origin) in sources(
        [a for a in args.also.split(",") if a]
    ).items():
        runs = splits(frame, target, problem, args.seeds)
        if not runs[0].categorical:
            continue
        metric = problem.default_metric
        higher = higher_is_better(metric)
        means = {}
        for size in args.sizes:
            results = np.array([fit_once(data, metric, size) for data in runs])
            means[size] = results.mean(axis=0)
        cells = " | ".join(f"{means[s][0]:.2f}, {means[s][1]:.4g}" for s in args.sizes)
        verdicts = []
        for s in others:
            gain = (means[s][1] - means[base][1]) * (1 if higher else -1)
            faster = means[base][0] / means[s][0]
            verdicts.append(f"{faster:.1f}x, {gain + 0.0:+.4g}")
            if origin == "learning":
                tally[s][0] += 1
                tally[s][1] += gain >= 0
        label = name if origin == "learning" else f"{name} (benchmark)"
        print(
            f"| {label} | {len(frame):,} | {len(runs[0].categorical)} | {cells} | "
            + " | ".join(verdicts)
            + " |",
            flush=True,
        )
    for s, (n, better) in tally.items():
        print(
            f"\none_hot_max_size {s} against {base}: level or better on {better} of {n} "
            "learning tables (mean validation score over the seeds, each table's default metric)"
        )


if __name__ == "__main__":
    main()
