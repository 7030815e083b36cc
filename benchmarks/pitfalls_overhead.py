"""What the pitfall checks add to `shipyard train` on a million rows.

    uv run python benchmarks/pitfalls_overhead.py [--rows 1000000]

Builds a table of ``--rows`` rows (16 numbers, 2 categories, a flag, a timestamp, an integer
customer key), ingests it, and times, in the training job's own order:

- the columns left out by default (dates, identifiers, Shipyard's columns): ``left_out``;
- the split with the new checks (entity keys, a leak judged against the next best column,
  the quick time-split comparison) against the same split with only the checks it had before;
- the learning curve (the quick model on 25/50/100% of at most 50,000 training rows);

then runs the whole `train()` once (one LightGBM fit) for scale. Not a test: it prints
figures, it never gates anything.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def _table(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 16))
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(16)])
    frame["plan"] = rng.choice(["prepaid", "postpaid", "business"], rows)
    frame["country"] = rng.choice([f"c{i}" for i in range(40)], rows)
    frame["roaming"] = rng.random(rows) < 0.3
    frame["event_time"] = pd.Timestamp("2025-01-01") + pd.to_timedelta(
        rng.integers(0, 90 * 86400, rows), unit="s"
    )
    frame["customer_id"] = rng.integers(0, rows // 20, rows)
    logit = x[:, 0] + 0.5 * x[:, 1] * (frame["plan"] == "business") + 0.8 * frame["roaming"] - 2
    frame["label"] = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame


def _seconds(fn, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - started, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()

    from shipyard.ingest import ingest_path
    from shipyard.model import FeatureEncoder, infer_problem
    from shipyard.project import init_project
    from shipyard.train import _split as split_module
    from shipyard.train import split_frame, train
    from shipyard.train._fitting import Parts
    from shipyard.train._pitfalls import learning_curve, left_out

    frame = _table(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.parquet"
        frame.to_parquet(path, index=False)
        project = init_project(Path(tmp) / "proj")
        ingest_path(project, path, "big")
        labelled = project.lake.read_frame(project.catalog.get_dataset_version("big"))

        t_left, left = _seconds(left_out, labelled, {}, excluded=["label"], keep=())
        t_split, split = _seconds(split_frame, labelled, "label", exclude=list(left))
        # The split as it was: the same code with the three new checks replaced by no-ops.
        saved = (
            split_module.entity_findings,
            split_module.strength_findings,
            split_module.time_findings,
        )
        split_module.entity_findings = lambda *a, **k: []
        split_module.strength_findings = lambda *a, **k: []
        split_module.time_findings = lambda *a, **k: []
        t_split_before, _ = _seconds(split_frame, labelled, "label", exclude=list(left))
        (
            split_module.entity_findings,
            split_module.strength_findings,
            split_module.time_findings,
        ) = saved

        problem = infer_problem(labelled["label"])
        y = problem.encode(labelled["label"])
        encoder = FeatureEncoder(exclude=["label", *left]).fit(labelled.iloc[split.train])
        rows = {"train": split.train, "valid": split.valid, "test": split.test}
        parts = Parts(
            {k: encoder.encode_frame(labelled.iloc[r]).matrix for k, r in rows.items()},
            {k: y[r] for k, r in rows.items()},
            list(encoder.categorical_indices_),
            list(encoder.feature_names_),
        )
        t_curve, curve = _seconds(learning_curve, problem, parts, 0)

        t_train, result = _seconds(train, project, "big", "label")
        project.close()

    added = t_left + (t_split - t_split_before) + t_curve
    print(f"Pitfall checks on {args.rows:,} rows x {frame.shape[1]} columns (2 busy cores)\n")
    print("| step | seconds |\n|---|---:|")
    print(f"| left_out (dates, identifiers, Shipyard's columns) | {t_left:.2f} |")
    print(f"| split, checks it had before | {t_split_before:.2f} |")
    print(f"| split, with entity / leak / time checks | {t_split:.2f} |")
    print(f"| learning curve (3 quick fits, <= 50,000 rows) | {t_curve:.2f} |")
    print(f"| **added by the pitfall checks** | **{added:.2f}** |")
    print(f"| whole `train()` (one LightGBM fit), for scale | {t_train:.1f} |")
    print(f"\nleft out: {left}")
    print(f"split findings: {[f['check'] for f in split.findings]}")
    print(f"learning curve: {curve['status']}: {curve['message']}")
    print(f"train findings: {[f['check'] for f in result.findings]}")  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
