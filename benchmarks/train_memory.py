"""Calibrate the training-memory estimate: peak RSS of real training jobs against it.

Each job runs in a fresh Python (so the peak is its own: VmHWM read at its end) on a table
of N rows (10 numbers, 2 strings, a boolean, a binary target), for a few N and families.

    .venv/bin/python benchmarks/train_memory.py [--rows 100000 400000 1600000]
        [--families lightgbm random_forest]

Prints, per job: rows, family, estimated and measured peak (MiB), and the error.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

_JOB = """
import sys
from pathlib import Path
from shipyard.project import Project
from shipyard.settings import load_settings
from shipyard.train import train
root = Path(sys.argv[1])
with Project(root, settings=load_settings(root)) as p:
    train(p, sys.argv[2], "label", family=sys.argv[3], model_name="m")
for line in Path("/proc/self/status").read_text().splitlines():
    if line.startswith("VmHWM:"):
        print(int(line.split()[1]) * 1024)
"""


def table(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 10))
    frame = pd.DataFrame({f"x{i}": x[:, i] for i in range(10)})
    frame["region"] = rng.choice(["north", "south", "east", "west", "centre"], rows)
    frame["plan"] = rng.choice([f"plan-{i:02d}" for i in range(40)], rows)
    frame["roaming"] = rng.random(rows) < 0.3
    signal = x[:, 0] + 0.5 * x[:, 1] + 0.8 * frame["roaming"] + (frame["region"] == "north")
    frame["label"] = (signal + rng.normal(size=rows) > 1).astype(int)
    return frame


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 400_000, 1_600_000])
    parser.add_argument("--families", nargs="+", default=["lightgbm"])
    args = parser.parse_args()
    from shipyard.ingest import ingest_path
    from shipyard.project import init_project
    from shipyard.train import TrainSpec, estimate_training_memory

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "proj"
        project = init_project(root)
        print(f"{'rows':>10} {'family':>14} {'estimate MiB':>13} {'measured MiB':>13} {'error':>7}")
        for rows in args.rows:
            path = Path(tmp) / f"t{rows}.parquet"
            table(rows).to_parquet(path, index=False)
            version = ingest_path(project, path, f"t{rows}").version
            for family in args.families:
                spec = TrainSpec.of(family=family)
                estimate = estimate_training_memory(version, spec, "label").total
                out = subprocess.run(
                    [sys.executable, "-c", _JOB, str(root), version.ref, family],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                measured = int(out.stdout.strip().splitlines()[-1])
                print(
                    f"{rows:>10,} {family:>14} {estimate / 2**20:>13,.0f} "
                    f"{measured / 2**20:>13,.0f} {estimate / measured - 1:>+7.0%}",
                    flush=True,
                )
        project.close()


if __name__ == "__main__":
    main()
