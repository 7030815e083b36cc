"""How many rounds should a booster's refit on train + validation run?

    .venv/bin/python benchmarks/refit_rounds.py [--families lightgbm,xgboost,catboost]
        [--seeds 5] [--min-rows 600]

After a holdout search Shipyard refits the chosen boosters on train + validation, with no
rows left to early-stop on: the refit runs the number of rounds the trial's early stopping
chose on the train part. More rows carry more rounds before a booster overfits, so the
field often scales the rounds by the rows gained. This measures it on the tables the
warm-start portfolio is learned from (``learn_portfolio.py``: packaged tables, none of
them one ``automl.py`` benchmarks on), with each family's defaults as Shipyard fits them:
per table and seed, a seeded 63.75 / 11.25 / 25 split (the search's 85/15 of a 75/25
split); fit on train, early-stopped on validation; then refit on train + validation with
the best iteration x 1 and x (train + validation) / train, and score the test part with the
search's default metric. It prints the mean test score per (table, family) for the trial's
own fit, the plain refit and the grown one, and the grown refit's relative gain.

Measured 2026-12-02 (results/refit_rounds.md), 13 tables x 5 seeds: the grown refit gained
on RMSE and multiclass log loss in 14 of 15 (table, family) cells (+0.1% to +4.9%), and
left ROC AUC where it was (+0.02% on average over 24 cells, 11 up, 13 down).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
from learn_portfolio import encoded, table, tables

from shipyard.automl import score
from shipyard.automl._metrics import higher_is_better
from shipyard.model import FitData, get_family

HERE = Path(__file__).resolve().parent
VARIANTS = ("trial fit", "refit x1", "refit grown")


def measure(name: str, meta: dict[str, Any], families: list[str], seed: int) -> dict[str, Any]:
    """One table and seed: each family's test score for the three fits."""
    frame, problem = table(name, meta)
    order = np.random.default_rng(seed).permutation(len(frame))
    a, b = int(0.6375 * len(frame)), int(0.75 * len(frame))
    train, valid, test = (frame.iloc[order[:a]], frame.iloc[order[a:b]], frame.iloc[order[b:]])
    encoder, data = encoded(problem, meta["target"], train, valid)
    x_test = encoder.encode_frame(test).matrix
    y_test = problem.encode(test[meta["target"]])
    everything = FitData(
        data.problem,
        data.n_classes,
        np.vstack([data.x_train, data.x_valid]),
        np.concatenate([data.y_train, data.y_valid]),
        None,
        None,
        data.categorical,
    )
    grow = len(everything.y_train) / len(data.y_train)
    metric = problem.default_metric
    out: dict[str, Any] = {"metric": metric, "rows": len(frame), "scores": {}}
    for name_ in families:
        family = get_family(name_)
        fit = family.fit(data, None, seed, threads=2)
        scores = [score(metric, problem.type, y_test, family.predict(fit.estimator, x_test))]
        for factor in (1.0, grow):
            refit = family.fit(everything, family.refit_params(fit, factor), seed, threads=2)
            scores.append(
                score(metric, problem.type, y_test, family.predict(refit.estimator, x_test))
            )
        out["scores"][name_] = scores
    return out


def report(runs: dict[str, list[dict[str, Any]]], families: list[str]) -> str:
    """The mean test scores per (table, family) and the grown refit's gain, as Markdown."""
    lines = [
        "| table | rows | metric | family | " + " | ".join(VARIANTS) + " | grown vs x1 |",
        "|---|---:|---|---|---:|---:|---:|---:|",
    ]
    gains: dict[str, list[float]] = {}
    for name, seeds in sorted(runs.items()):
        metric = seeds[0]["metric"]
        sign = 1.0 if higher_is_better(metric) else -1.0
        for family in families:
            mean = np.mean([s["scores"][family] for s in seeds], axis=0)
            gain = sign * (mean[2] - mean[1]) / abs(mean[1])
            gains.setdefault(metric, []).append(gain)
            cells = " | ".join(f"{v:.4g}" for v in mean)
            lines.append(
                f"| {name} | {seeds[0]['rows']:,} | {metric} | {family} | {cells} | "
                f"{100 * gain:+.2f}% |"
            )
    lines.append("")
    for metric, values in sorted(gains.items()):
        lines.append(
            f"- {metric}: grown refit better in {sum(g > 0 for g in values)} of {len(values)} "
            f"cells, mean {100 * np.mean(values):+.3f}%"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--families", default="lightgbm,xgboost,catboost")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--min-rows", type=int, default=600, help="skip smaller tables")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "refit_rounds.md")
    args = ap.parse_args()
    families = args.families.split(",")
    runs: dict[str, list[dict[str, Any]]] = {}
    for name, meta in tables().items():
        if meta["rows"] < args.min_rows:
            continue
        for seed in range(args.seeds):
            runs.setdefault(name, []).append(measure(name, meta, families, seed))
        print(f"  {name}: done", flush=True)
    text = report(runs, families)
    args.out.write_text(
        f"`benchmarks/refit_rounds.py --families {args.families} --seeds {args.seeds}`\n\n"
        f"Mean test score over {args.seeds} seeded splits.\n\n{text}\n"
    )
    print(text)


if __name__ == "__main__":
    main()
