"""Does an anomaly score per subscriber-day help the roaming fraud model? What does it cost
a single-row prediction? And how well does an anomaly model alone find fraud?

    .venv/bin/python benchmarks/roaming_anomaly_feature.py
    .venv/bin/python benchmarks/roaming_anomaly_feature.py --subscribers 4000 --days 40

Generates the demo's data, builds its training table (one row per roaming subscriber-day,
``training_table_sql``), then on one time split (train on the earliest days, test on the
latest) prints the test PR AUC and ROC AUC of:

* the anomaly models alone: labelled (the label chooses the detector and the threshold,
  never a feature), and each in-model detector's score by itself (fitted on the train part,
  the label never seen);
* the supervised model (one LightGBM fit, or AutoML with ``--budget``) without and with
  ``train(..., anomaly_feature=DETECTOR)``, with seeds, and the median latency of
  ``predict_records`` on one row (the server's path, without HTTP).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from shipyard.demo import generate, training_table_sql
from shipyard.ingest import ingest_path, ingest_sql
from shipyard.project import Project, init_project
from shipyard.registry import load_model
from shipyard.train import train

_SPLIT = {"split": "time", "time_column": "day", "exclude": ["subscriber_id"]}
_LATENCY_CALLS = 300


def _table(project: Project, folder: Path, subscribers: int, days: int) -> pd.DataFrame:
    generate(folder, subscribers=subscribers, days=days, seed=0)
    for name, file in (("subscribers", "subscribers"), ("usage", "usage"),
                       ("labels", "labels")):  # fmt: skip
        ingest_path(project, folder / f"{file}.parquet", name)
    version = ingest_sql(project, training_table_sql(), "training").version
    return project.lake.read_frame(version)


def _latency_ms(project: Project, ref: str, row: dict[str, Any]) -> float:
    """Median milliseconds of one single-row ``predict_records`` call."""
    model = load_model(project, ref).model
    model.predict_records([row])
    times = []
    for _ in range(_LATENCY_CALLS):
        started = time.perf_counter()
        model.predict_records([row])
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def _supervised(
    project: Project, seeds: int, budget: float | None, feature: str | None, row: dict[str, Any]
) -> tuple[list[dict[str, float]], float, str]:
    """Test metrics per seed, the single-row latency of the first seed's model, its ref."""
    out, refs = [], []
    options = {"time_budget": budget} if budget else {}
    for seed in range(seeds):
        result = train(project, "training", "is_fraud", seed=seed, anomaly_feature=feature,
                       model_name=f"fraud-{feature or 'plain'}", **_SPLIT, **options)  # fmt: skip
        out.append(result.metrics["test"])
        refs.append(result.model_version.ref)
    return out, _latency_ms(project, refs[0], row), refs[0]


def _score_alone(project: Project, ref: str, test: pd.DataFrame) -> dict[str, float]:
    """PR and ROC AUC on the test rows of the anomaly score the model ``ref`` computes."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    encoder = load_model(project, ref).model.encoder
    score = encoder.encode_frame(test).matrix[:, -1]
    return {
        "pr_auc": float(average_precision_score(test["is_fraud"], score)),
        "roc_auc": float(roc_auc_score(test["is_fraud"], score)),
    }


def _shown(metrics: list[dict[str, float]], key: str) -> str:
    values = [m[key] for m in metrics if key in m]
    if not values:
        return "-"
    spread = f" ± {statistics.stdev(values):.4f}" if len(values) > 1 else ""
    return f"{statistics.mean(values):.4f}{spread}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=6000)
    parser.add_argument("--days", type=int, default=45)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budget", type=float, default=None)
    parser.add_argument("--detectors", default="lof,isolation_forest")
    args = parser.parse_args()
    lines: list[tuple[str, list[dict[str, float]], str]] = []
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-anomaly-") as folder:
        project = init_project(Path(folder) / "proj")
        started = time.perf_counter()
        frame = _table(project, Path(folder) / "raw", args.subscribers, args.days)
        print(f"training table: {len(frame):,} subscriber-days "
              f"({time.perf_counter() - started:.0f} s)")  # fmt: skip
        labelled = train(project, "training", "is_fraud", problem_type="anomaly", **_SPLIT)
        test = frame.sort_values("day", kind="stable").tail(labelled.split["rows"]["test"])
        row = {k: (None if pd.isna(v) else v) for k, v in test.iloc[0].items()}
        detector = labelled.model_version.signature["detector"]
        lines.append(("anomaly model, labelled", [labelled.metrics["test"]], detector))
        plain, plain_ms, _ = _supervised(project, args.seeds, args.budget, None, row)
        lines.append(("supervised", plain, f"1-row predict {plain_ms:.2f} ms"))
        for kind in args.detectors.split(","):
            with_score, ms, ref = _supervised(project, args.seeds, args.budget, kind, row)
            lines.insert(1, (f"{kind} score alone", [_score_alone(project, ref, test)], ""))
            lines.append((f"supervised + {kind}", with_score, f"1-row predict {ms:.2f} ms"))
        project.close()
    print(f"{'model':<30} {'test PR AUC':>16} {'test ROC AUC':>16}")
    for name, metrics, detail in lines:
        shown = f"{_shown(metrics, 'pr_auc'):>16} {_shown(metrics, 'roc_auc'):>16}"
        print(f"{name:<30} {shown}{'  (' + detail + ')' if detail else ''}")


if __name__ == "__main__":
    main()
