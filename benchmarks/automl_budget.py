"""AutoML under a time budget: leaderboard, test metrics and wall time vs budget.

    .venv/bin/python benchmarks/automl_budget.py breast_cancer 30
    .venv/bin/python benchmarks/automl_budget.py fraud 30 [rows]
    .venv/bin/python benchmarks/automl_budget.py cli ROWS BUDGET [BUDGET ...]

``fraud`` is a synthetic roaming-fraud-like table (about 2% positives, a 60-level country
column, missing values, interactions, two noise columns), generated with a fixed seed.

``cli`` times the whole ``shipyard train --time-budget B`` command as a user meets it, on a
CSV of ``ROWS`` fraud rows ingested through the CLI, for each budget ``B``; start-up is the
wall time of the same command refused at its first check (``--time-budget 1``): the
interpreter, the imports, reading the options. The promise is ``wall <= 1.1 B + start-up``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from shipyard.ingest import ingest_path
from shipyard.project import init_project
from shipyard.train import train


def fraud_frame(n: int, seed: int = 42) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    weights = np.r_[np.full(10, 0.06), np.full(50, 0.008)]
    country = rng.choice([f"c{i:02d}" for i in range(60)], size=n, p=weights)
    plan = rng.choice(["prepaid", "postpaid", "business"], size=n, p=[0.5, 0.4, 0.1])
    calls = rng.poisson(5, n).astype(float)
    minutes = rng.gamma(2.0, 10.0, n)
    tenure = rng.exponential(400, n)
    night = rng.beta(2, 5, n)
    dest = rng.poisson(3, n).astype(float)
    risky = np.isin(country, ["c03", "c17", "c22", "c41", "c55"])
    logit = (
        -5.2
        + 1.4 * risky
        + 0.9 * (plan == "prepaid")
        + 2.2 * night * (minutes > 30)
        + 0.15 * dest
        - 0.0015 * tenure
        + 0.8 * (calls > 9) * risky
        + rng.normal(scale=0.8, size=n)
    )
    frame = pd.DataFrame(
        {
            "country": country,
            "plan": plan,
            "calls": calls,
            "minutes": minutes,
            "sms": rng.poisson(3, n).astype(float),
            "tenure_days": tenure,
            "night_share": night,
            "distinct_dest": dest,
            "noise1": rng.normal(size=n),
            "noise2": rng.normal(size=n),
            "fraud": (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int),
        }
    )
    frame.loc[rng.random(n) < 0.08, "tenure_days"] = np.nan
    return frame


def _timed(root: Path, *args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    shipyard = Path(sys.executable).with_name("shipyard")
    started = time.monotonic()
    proc = subprocess.run([str(shipyard), *args], cwd=root, capture_output=True, text=True)
    return time.monotonic() - started, proc


def cli(rows: int, budgets: list[float]) -> None:
    """Wall time of the whole train command for each budget, against the promise."""
    root = Path(tempfile.mkdtemp())
    fraud_frame(rows).to_csv(root / "data.csv", index=False)
    _timed(root, "init")
    _timed(root, "ingest", "data.csv", "--name", "data")
    startup, refused = _timed(root, "train", "data", "--target", "fraud", "--time-budget", "1")
    assert refused.returncode == 1, refused.stderr
    print(f"{rows:,} rows; start-up (train refused at its first check): {startup:.1f} s")
    print(f"{'budget':>7} {'wall':>7} {'wall-start-up':>14} {'ratio':>6}  within 1.1 B + start-up")
    for budget in budgets:
        wall, proc = _timed(
            root, "train", "data", "--target", "fraud", "--time-budget", f"{budget:g}"
        )
        if proc.returncode != 0:
            print(f"{budget:7g} failed: {proc.stderr.strip()[-300:]}")
            continue
        net = wall - startup
        print(
            f"{budget:7g} {wall:7.1f} {net:14.1f} {net / budget:6.2f}  "
            f"{'yes' if wall <= 1.1 * budget + startup else 'NO'}"
        )


def main() -> None:
    which = sys.argv[1] if len(sys.argv) > 1 else "breast_cancer"
    if which == "cli":
        cli(int(sys.argv[2]), [float(b) for b in sys.argv[3:]] or [10.0, 30.0, 60.0])
        return
    budget = float(sys.argv[2]) if len(sys.argv) > 2 else 30.0
    if which == "breast_cancer":
        from sklearn.datasets import load_breast_cancer

        frame = load_breast_cancer(as_frame=True).frame
        frame.columns = [c.replace(" ", "_") for c in frame.columns]
        target = "target"
    else:
        frame = fraud_frame(int(sys.argv[3]) if len(sys.argv) > 3 else 30_000)
        target = "fraud"
    root = Path(tempfile.mkdtemp())
    project = init_project(root)
    frame.to_parquet(root / "data.parquet")
    ingest_path(project, root / "data.parquet", "data")
    started = time.monotonic()
    result = train(
        project,
        "data",
        target,
        time_budget=budget,
        on_trial=lambda p: print(
            f"\r{p.trials_done} done, {p.trials_pruned} pruned, best {p.metric} "
            f"{p.best_score:.4f} ({p.best_family}), {p.seconds_left:.0f}s left",
            end="",
        ),
    )
    wall = time.monotonic() - started
    print(f"\n{which}: {len(frame):,} rows, wall {wall:.1f} s for a {budget:g} s budget")
    print(f"search: {result.search}")
    for row in result.leaderboard[:3]:
        print(
            f"  #{row['rank']} {row['family']:<13} valid {row['valid_score']:.4f}  "
            f"fit {row['fit_seconds']:.2f}s  {row['predict_ms_per_row']:.2f} ms/row"
        )
    test = result.metrics["test"]
    keys = ("roc_auc", "pr_auc", "log_loss") if "roc_auc" in test else tuple(test)
    print("test:", {k: round(test[k], 4) for k in keys if k in test})
    print("diagnostics:", [d["check"] for d in result.diagnostics])


if __name__ == "__main__":
    main()
