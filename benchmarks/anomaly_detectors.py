"""Which unsupervised detector finds roaming fraud best, and at what cost?

    .venv/bin/python benchmarks/anomaly_detectors.py
    .venv/bin/python benchmarks/anomaly_detectors.py --subscribers 20000 --days 60

On the demo's training table (one row per roaming subscriber-day), encoded by Shipyard's
feature encoder, each detector learns from the earliest 70% of days without the label and
scores the latest 15%; the table prints test PR AUC, ROC AUC, fit and score seconds. The
candidates are Shipyard's (``shipyard.model.AnomalyDetector``: IsolationForest, and
LocalOutlierFactor in robust units) and scikit-learn's OneClassSVM (RBF, on the same robust
units, fitted on at most ``--svm-rows`` rows: its fit grows with rows squared), which
Shipyard does not offer.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from shipyard.demo import generate, training_table_sql
from shipyard.ingest import ingest_path, ingest_sql
from shipyard.model import AnomalyDetector, FeatureEncoder
from shipyard.project import init_project


def _table(folder: Path, subscribers: int, days: int):  # type: ignore[no-untyped-def]
    project = init_project(folder / "proj")
    generate(folder / "raw", subscribers=subscribers, days=days, seed=0)
    for name in ("subscribers", "usage", "labels"):
        ingest_path(project, folder / "raw" / f"{name}.parquet", name)
    version = ingest_sql(project, training_table_sql(), "training").version
    frame = project.lake.read_frame(version).sort_values("day", kind="stable")
    project.close()
    return frame.reset_index(drop=True)


def _svm(x_train: np.ndarray, rows: int, seed: int):  # type: ignore[no-untyped-def]
    from sklearn.svm import OneClassSVM

    units = AnomalyDetector("lof").fit(x_train[:50])  # only for its fill; refit below
    filled = units._filled(x_train, scaled=False)
    center = np.median(filled, axis=0)
    q1, q3 = np.percentile(filled, [25, 75], axis=0)
    scale = np.where(q3 - q1 > 0, q3 - q1, 1.0)
    picked = np.random.default_rng(seed).choice(len(x_train), min(rows, len(x_train)), False)
    model = OneClassSVM(nu=0.05, gamma="scale").fit(((filled - center) / scale)[picked])
    return lambda x: -model.score_samples((units._filled(x, scaled=False) - center) / scale)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=6000)
    parser.add_argument("--days", type=int, default=45)
    parser.add_argument("--svm-rows", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-detectors-") as folder:
        frame = _table(Path(folder), args.subscribers, args.days)
    n = len(frame)
    train, test = frame.iloc[: int(0.7 * n)], frame.iloc[int(0.85 * n) :]
    encoder = FeatureEncoder(exclude=["subscriber_id", "day", "is_fraud"]).fit(train)
    x_train, x_test = encoder.encode_frame(train).matrix, encoder.encode_frame(test).matrix
    y = test["is_fraud"].to_numpy()
    categorical = encoder.categorical_indices_
    print(f"{n:,} subscriber-days, {x_train.shape[1]} features; test {len(y):,} rows, "
          f"{int(y.sum())} fraud")  # fmt: skip
    candidates = {
        "isolation_forest": lambda: AnomalyDetector("isolation_forest", {}, categorical),
        "isolation_forest 1024/0.5": lambda: AnomalyDetector(
            "isolation_forest", {"max_samples": 1024, "max_features": 0.5}, categorical
        ),
        "lof (35 neighbours)": lambda: AnomalyDetector("lof", {"n_neighbors": 35}, categorical),
    }
    print(f"{'detector':<30} {'PR AUC':>7} {'ROC AUC':>8} {'fit s':>7} {'score s':>8}")
    for name, make in candidates.items():
        started = time.perf_counter()
        detector = make().fit(x_train)
        fitted = time.perf_counter() - started
        scores = detector.score(x_test)
        scored = time.perf_counter() - started - fitted
        _row(name, y, scores, fitted, scored)
    started = time.perf_counter()
    score = _svm(x_train, args.svm_rows, 0)
    fitted = time.perf_counter() - started
    scores = score(x_test)
    _row(f"one_class_svm ({args.svm_rows:,} rows)", y, scores, fitted,
         time.perf_counter() - started - fitted)  # fmt: skip


def _row(name: str, y: np.ndarray, scores: np.ndarray, fitted: float, scored: float) -> None:
    pr, roc = average_precision_score(y, scores), roc_auc_score(y, scores)
    print(f"{name:<30} {pr:>7.4f} {roc:>8.4f} {fitted:>7.1f} {scored:>8.1f}")


if __name__ == "__main__":
    main()
