"""Does an anomaly score per subscriber-day help the roaming fraud model? And how well does
an anomaly model alone find fraud, without learning from the labels?

    .venv/bin/python benchmarks/roaming_anomaly_feature.py
    .venv/bin/python benchmarks/roaming_anomaly_feature.py --subscribers 4000 --days 40

Generates the demo's data, builds its training table (one row per roaming subscriber-day,
``training_table_sql``), then on one time split (train on the earliest days, test on the
latest) prints the test PR AUC and ROC AUC of:

* the anomaly models alone: unlabelled (IsolationForest, the label never seen) and
  labelled (the label chooses the detector and the threshold, never a feature);
* the supervised model (one LightGBM fit, or AutoML with ``--budget``) without and with
  ``anomaly_score`` (``shipyard.demo.anomaly_feature.add_anomaly_score``), with seeds.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from shipyard.demo import generate, training_table_sql
from shipyard.demo.anomaly_feature import add_anomaly_score
from shipyard.ingest import ingest_path, ingest_sql
from shipyard.project import Project, init_project
from shipyard.train import train

_SPLIT = {"split": "time", "time_column": "day", "exclude": ["subscriber_id"]}


def _table(project: Project, folder: Path, subscribers: int, days: int) -> None:
    generate(folder, subscribers=subscribers, days=days, seed=0)
    for name, file in (("subscribers", "subscribers"), ("usage", "usage"),
                       ("labels", "labels")):  # fmt: skip
        ingest_path(project, folder / f"{file}.parquet", name)
    ingest_sql(project, training_table_sql(), "training")


def _supervised(project: Project, dataset: str, seeds: int, budget: float | None) -> list:
    out = []
    for seed in range(seeds):
        options = {"time_budget": budget} if budget else {}
        result = train(project, dataset, "is_fraud", seed=seed, model_name="fraud",
                       **_SPLIT, **options)  # fmt: skip
        out.append(result.metrics["test"])
    return out


def _scored_test(project: Project, dataset: str, rows: int) -> dict[str, float]:
    """PR and ROC AUC of ``anomaly_score`` on the latest ``rows`` rows by day (the time
    split's test part)."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    from shipyard.catalog.refs import parse_dataset_ref

    ref = parse_dataset_ref(dataset)
    frame = project.lake.read_frame(project.catalog.get_dataset_version(ref.name, ref.version))
    test = frame.sort_values("day", kind="stable").tail(rows)
    return {
        "pr_auc": float(average_precision_score(test["is_fraud"], test["anomaly_score"])),
        "roc_auc": float(roc_auc_score(test["is_fraud"], test["anomaly_score"])),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=6000)
    parser.add_argument("--days", type=int, default=45)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budget", type=float, default=None)
    parser.add_argument("--detector", default="lof", help="lof or isolation_forest")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-anomaly-") as folder:
        project = init_project(Path(folder) / "proj")
        started = time.perf_counter()
        _table(project, Path(folder) / "raw", args.subscribers, args.days)
        rows = project.catalog.get_dataset_version("training").num_rows
        print(f"training table: {rows:,} subscriber-days ({time.perf_counter() - started:.0f} s)")
        labelled = train(project, "training", "is_fraud", problem_type="anomaly", **_SPLIT)
        feature = add_anomaly_score(
            project, "training", "training_anomaly", detector={"kind": args.detector}
        )
        plain = _supervised(project, "training", args.seeds, args.budget)
        with_score = _supervised(project, feature.dataset, args.seeds, args.budget)
        unlabelled = _scored_test(project, feature.dataset, labelled.split["rows"]["test"])
        project.close()
    lines = [
        ("anomaly, unlabelled", [unlabelled], args.detector),
        ("anomaly, labelled", [labelled.metrics["test"]],
         labelled.model_version.signature["detector"]),
        ("supervised", plain, None),
        ("supervised + anomaly_score", with_score, None),
    ]  # fmt: skip
    print(f"{'model':<28} {'test PR AUC':>16} {'test ROC AUC':>16}")
    for name, metrics, signature in lines:
        shown = []
        for key in ("pr_auc", "roc_auc"):
            values = [m[key] for m in metrics if key in m]
            spread = f" ± {statistics.stdev(values):.4f}" if len(values) > 1 else ""
            shown.append(f"{statistics.mean(values):.4f}{spread}" if values else "-")
        detail = f"  ({signature})" if signature else ""
        print(f"{name:<28} {shown[0]:>16} {shown[1]:>16}{detail}")


if __name__ == "__main__":
    main()
