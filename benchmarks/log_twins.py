"""Does a regression search gain from log(1 + y) twins beside its boosters?

    .venv/bin/python benchmarks/log_twins.py [--budget 30] [--seeds 3] [--tables a,b]

On a skewed target that is never negative, ``target_transform="auto"`` (the default)
searches each booster on y and on log(1 + y) and lets the ensemble mix them
(:mod:`shipyard.model.families.log_target`); ``none`` searches y alone. This runs both
searches, same budget, seed and split, on the regression tables the warm-start portfolio
is learned from whose target is skewed (``learn_portfolio.py``: packaged tables, none of
them one ``automl.py`` benchmarks on), and prints each one's test RMSE on a seeded 25%
held out from the search, and the mean relative gain. ``automl.py`` measures diamonds.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from learn_portfolio import table, tables

import shipyard

HERE = Path(__file__).resolve().parent
MODES = ("none", "auto")
MIN_SKEW = 1.0


def skewness(y: np.ndarray) -> float:
    centered = y - y.mean()
    return float(np.mean(centered**3) / np.mean(centered**2) ** 1.5)


def run(name: str, meta: dict[str, Any], seed: int, budget: float) -> dict[str, Any]:
    """Test RMSE of a search with each target mode, on one seeded 75/25 split."""
    frame, _problem = table(name, meta)
    part = np.where(np.random.default_rng(seed).random(len(frame)) < 0.25, "test", "train")
    frame = frame.assign(__part=part)
    out: dict[str, Any] = {}
    for mode in MODES:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "table.parquet"
            frame.to_parquet(path)
            project = shipyard.init_project(Path(folder) / "project")
            shipyard.ingest_path(project, path, name)
            started = time.perf_counter()
            result = shipyard.train(
                project, name, meta["target"], time_budget=budget, metric="rmse",
                problem_type="regression", split="column", split_column="__part", seed=seed,
                target_transform=mode, allow_leakage=True,
            )  # fmt: skip
            project.close()
        out[mode] = {
            "rmse": result.metrics["test"]["rmse"],
            "seconds": round(time.perf_counter() - started, 1),
            "chosen": result.search.get("ensemble_note") or result.search.get("chosen"),
        }
    return out


def report(runs: dict[str, list[dict[str, Any]]]) -> str:
    lines = [
        "| table | rows | skew | RMSE, y only | RMSE, y and log twins | gain |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    gains = []
    for name, seeds in runs.items():
        y_only = float(np.mean([s["none"]["rmse"] for s in seeds]))
        both = float(np.mean([s["auto"]["rmse"] for s in seeds]))
        gain = 1 - both / y_only
        gains.append(gain)
        rows, skew = seeds[0]["rows"], seeds[0]["skew"]
        lines.append(
            f"| {name} | {rows} | {skew:.2f} | {y_only:.5g} | {both:.5g} | {100 * gain:+.2f}% |"
        )
    better = sum(g > 0 for g in gains)
    splits = [s["auto"]["rmse"] < s["none"]["rmse"] for seeds in runs.values() for s in seeds]
    lines.append(
        f"\nTwins better on {better} of {len(gains)} tables ({sum(splits)} of {len(splits)} "
        f"splits); mean gain {100 * np.mean(gains):+.2f}%."
    )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--budget", type=float, default=30.0)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--tables", default="", help="comma-separated (default: every skewed one)")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "log_twins.md")
    args = ap.parse_args()
    wanted = set(filter(None, args.tables.split(",")))
    runs: dict[str, list[dict[str, Any]]] = {}
    for name, meta in tables().items():
        if meta["task"] != "regression" or (wanted and name not in wanted):
            continue
        frame, _ = table(name, meta)
        y = pd.to_numeric(frame[meta["target"]]).to_numpy(dtype=float)
        if y.min() < 0 or skewness(y) < MIN_SKEW:
            continue
        for seed in range(args.seeds):
            found = run(name, meta, seed, args.budget)
            found.update(rows=len(frame), skew=skewness(y))
            runs.setdefault(name, []).append(found)
            print(f"  {name} seed {seed}: {found}", flush=True)
    text = report(runs)
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(
        f"`benchmarks/log_twins.py --budget {args.budget:g} --seeds {args.seeds}`\n\n"
        f"Mean test RMSE over {args.seeds} seeded 75/25 splits, {args.budget:g} s searches.\n\n"
        f"{text}\n"
    )
    print(text)


if __name__ == "__main__":
    main()
