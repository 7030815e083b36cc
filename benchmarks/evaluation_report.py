"""What the evaluation report costs at the end of training, by test rows.

    .venv/bin/python benchmarks/evaluation_report.py [rows ...]   # default: 10000 100000 1000000

For each size: a binary fraud-like test set (2% positives, tied scores), two slice columns
(a 60-level category and a number) and a facet. It times the report (curves, calibration,
top-k, 200-resample bootstrap intervals, slices), Clarify's post-training bias, and the HTML
page, and, beside them, the usual way of bootstrapping ROC AUC and average precision: 200
calls of scikit-learn on resampled rows (up to 100,000 rows; it grows linearly past that).
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from shipyard.analyze import posttraining_bias
from shipyard.evaluation import evaluate_test
from shipyard.evaluation._html import render_evaluation_html
from shipyard.model import Problem

PROBLEM = Problem("binary", "is_fraud", (0, 1), 1)


def _data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.02).astype(np.float64)
    scores = np.round(1 / (1 + np.exp(-(rng.normal(size=n) + 2.5 * y - 4.0))), 4)
    slices = pd.DataFrame(
        {
            "home_country": rng.choice([f"C{i:02d}" for i in range(60)], n),
            "amount": rng.gamma(2.0, 50.0, n),
            "age_band": rng.choice(["18-24", "25-44", "45-64", "65+"], n),
        }
    )
    return y, scores, slices


def _seconds(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def _sklearn_bootstrap(y: np.ndarray, scores: np.ndarray, resamples: int = 200) -> None:
    rng = np.random.default_rng(0)
    for _ in range(resamples):
        rows = rng.integers(0, len(y), len(y))
        skm.roc_auc_score(y[rows], scores[rows])
        skm.average_precision_score(y[rows], scores[rows])


def _measure(n: int) -> str:
    y, scores, slices = _data(n)
    decisions = (scores >= 0.3).astype(np.float64)
    facet = slices["age_band"].to_numpy()
    by = slices[["home_country", "amount"]]
    t_report = _seconds(lambda: evaluate_test(PROBLEM, y, scores, threshold=0.3, slices=by))
    t_bias = _seconds(
        lambda: posttraining_bias(y, decisions, facet, positive=[1], facet_values=["65+"])
    )
    report = evaluate_test(PROBLEM, y, scores, threshold=0.3, slices=by)
    t_html = _seconds(lambda: render_evaluation_html(report))
    peer = f"{_seconds(lambda: _sklearn_bootstrap(y, scores), 1):.2f}" if n <= 100_000 else "-"
    total = t_report + t_bias + t_html
    return f"{n:>10,} {t_report:>9.3f} {t_bias:>7.3f} {t_html:>7.3f} {total:>8.3f} {peer:>22}"


def main(sizes: list[int]) -> None:
    print(
        f"{'rows':>10} {'report s':>9} {'bias s':>7} {'html s':>7} {'total s':>8} "
        f"{'sklearn 200x AUC+AP s':>22}"
    )
    for n in sizes:
        print(_measure(n))


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000, 100_000, 1_000_000])
