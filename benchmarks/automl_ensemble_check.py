"""Which check should decide that a Caruana ensemble replaces the best single model?

    .venv/bin/python benchmarks/automl_ensemble_check.py [--budget 20] [--skip a,b]

On the warm-start portfolio's tables (``_portfolio_data.py``: real tables shipped in PyPI
packages, none of the nine ``automl.py`` benchmarks on), each table is split once, seeded,
into 75% for the search and 25% for test. One search per table (``--budget`` seconds,
ensembling off) leaves its candidates and their validation (or, below ``CV_MAX_ROWS``,
out-of-fold) predictions. On those, ensemble selection picks weights; then each rule
decides whether the ensemble ships:

- ``always``: AutoGluon's rule, the ensemble whenever it beats the best model on validation;
- ``both halves``: the earlier rule, a gain on both halves of one cross-fit;
- ``mean gain``: the current rule (:func:`shipyard.automl.holds_out`), a positive mean
  gain over repeated cross-fits.

The table prints the test metric of the best single model and of the ensemble, and each
rule's decision, with the test score it leads to. Results go to
``benchmarks/results/automl_ensemble_check.md``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from learn_portfolio import encoded, table, tables

from shipyard.automl import Budget, SearchData, caruana_select, cross_validated, holds_out, search
from shipyard.automl import score as metric_score
from shipyard.automl._metrics import higher_is_better
from shipyard.model import FAMILIES

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "automl_ensemble_check.md"
SEED = 0


def split(name: str, meta: dict[str, Any]) -> tuple[SearchData, np.ndarray, np.ndarray, str]:
    """The table's seeded search data (85/15 of 75%) and its 25% test, encoded; the metric."""
    frame, problem = table(name, meta)
    order = np.random.default_rng(SEED).permutation(len(frame))
    cut, inner = int(0.75 * len(frame)), int(0.75 * 0.85 * len(frame))
    train, valid = frame.iloc[order[:inner]], frame.iloc[order[inner:cut]]
    test = frame.iloc[order[cut:]]
    encoder, fit = encoded(problem, meta["target"], train, valid)
    data = SearchData(**{f.name: getattr(fit, f.name) for f in fields(fit)}, score_rows=len(test))
    x_test, y_test = encoder.encode_frame(test).matrix, problem.encode(test[meta["target"]])
    return cross_validated(data, seed=SEED), x_test, y_test, problem.default_metric


def both_halves(
    predictions: list[np.ndarray], y: np.ndarray, score: Any, higher: bool, stratify: bool
) -> bool:
    """The earlier rule, as it was: the ensemble gains on both held-out halves of one
    cross-fit."""
    rng = np.random.default_rng(SEED)
    if stratify:
        order = np.concatenate([rng.permutation(np.flatnonzero(y == c)) for c in np.unique(y)])
        halves = (order[0::2], order[1::2])
    else:
        order = rng.permutation(len(y))
        halves = (order[: len(y) // 2], order[len(y) // 2 :])
    sign = 1.0 if higher else -1.0
    gains = []
    for fit, check in (halves, halves[::-1]):
        weights, _ = caruana_select(
            [p[fit] for p in predictions], partial(score, y[fit]), higher_is_better=higher
        )
        best = max(range(len(predictions)), key=lambda i: sign * score(y[fit], predictions[i][fit]))
        mix = sum(w * predictions[i][check] for i, w in weights.items())
        gains.append(
            sign * (score(y[check], np.asarray(mix)) - score(y[check], predictions[best][check]))
        )
    return not np.isfinite(gains).all() or min(gains) > 0


def one_table(name: str, meta: dict[str, Any], budget: float) -> dict[str, Any]:
    data, x_test, y_test, metric = split(name, meta)
    higher = higher_is_better(metric)
    result = search(
        data, metric=metric, families=list(FAMILIES), budget=Budget(budget), seed=SEED,
        ensemble=False, threads=2,
    )  # fmt: skip
    pool = [c for c in result.candidates if c.valid_scores is not None][:8]
    valid = [np.asarray(c.valid_scores) for c in pool]
    score = partial(metric_score, metric, data.problem)
    weights, _ = caruana_select(valid, partial(score, data.y_valid), higher_is_better=higher)

    def test_scores(c: Any) -> np.ndarray:
        models = c.fold_estimators or [c.fit.estimator]
        return np.mean([c.family.predict(m, x_test, threads=2) for m in models], axis=0)

    tests = [test_scores(c) for c in pool]
    single = score(y_test, tests[0])
    mixed = score(y_test, np.asarray(sum(w * tests[i] for i, w in weights.items())))
    built = len(weights) > 1
    stratify = data.problem != "regression"
    rules = {
        "always": built,
        "both halves": built and both_halves(valid, data.y_valid, score, higher, stratify),
        "mean gain": built
        and holds_out(valid, data.y_valid, score, higher_is_better=higher, stratify=stratify),
    }
    return {
        "table": name, "rows": meta["rows"], "metric": metric, "higher": higher,
        "validation": result.validation, "single": single, "ensemble": mixed,
        "members": len(weights), **{rule: (mixed if on else single) for rule, on in rules.items()},
        **{f"{rule} built": on for rule, on in rules.items()},
    }  # fmt: skip


def report(rows: list[dict[str, Any]], budget: float) -> str:
    lines = [
        f"Search budget {budget:g} s per table, 2 threads; test = a seeded 25%. Each rule's "
        "cell is the test metric it ships (the ensemble when it says so, marked *).",
        "",
        "| table | rows | metric | validation | best single | ensemble | always | both halves "
        "| mean gain |",
        "|---|---:|---|---|---:|---:|---:|---:|---:|",
    ]
    wins = {rule: 0.0 for rule in ("always", "both halves", "mean gain")}
    for r in rows:
        cells = []
        for rule in wins:
            cells.append(f"{r[rule]:.4f}{'*' if r[rule + ' built'] else ''}")
            sign = 1.0 if r["higher"] else -1.0
            gain = sign * (r[rule] - r["single"]) / abs(r["single"])
            wins[rule] += gain
        lines.append(
            f"| {r['table']} | {r['rows']} | {r['metric']} | {r['validation']} | "
            f"{r['single']:.4f} | {r['ensemble']:.4f} | {' | '.join(cells)} |"
        )
    lines += ["", "Mean relative gain over always shipping the best single model:", ""]
    lines += [f"- {rule}: {100 * total / len(rows):+.3f}%" for rule, total in wins.items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=20.0)
    parser.add_argument("--skip", default="")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    rows = []
    for name, meta in tables().items():
        if name in skip:
            continue
        print(f"{name} ...", file=sys.stderr, flush=True)
        rows.append(one_table(name, meta, args.budget))
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(report(rows, args.budget))
    print(OUT.read_text())


if __name__ == "__main__":
    main()
