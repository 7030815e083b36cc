"""Drift benchmark: ``shipyard drift`` versus Evidently and NannyML on the same Parquet files.

    .venv/bin/python benchmarks/drift.py                    # 1M vs 1M rows x 30 columns
    .venv/bin/python benchmarks/drift.py --rows 10000000    # 10M vs 10M (Evidently skipped)
    .venv/bin/python benchmarks/drift.py --skip-peers

The reference and current tables share 30 columns (20 numbers of several shapes, some with
missing values, and 10 categories of 3 to 500 levels) drawn from the same distributions,
except for 5 planted shifts:

    num_00  mean shift of 0.5 SD            num_05  mean shift of 0.2 SD
    num_10  standard deviation x 1.5        cat_0   category frequencies in reverse order
    cat_3   15 points of share moved from the most frequent level to the third

Each system runs in its own process, timed from outside (wall seconds, peak RSS from
``os.wait4``), from start-up to its verdict: ours is the real CLI, ``shipyard drift ref cur
--json``, on a project where ``shipyard ingest`` stored the same files first (not timed);
Evidently (``DataDriftPreset``) and NannyML (``UnivariateDriftCalculator``, default methods and
chunks: a column is flagged when any method alerts on any chunk) each run in their own venv
(``_peer_venv.py``) and read the Parquet files with pandas. The table lists which columns
each flags beside the planted ones.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _peer_venv import peer_python

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PLANTED = ("num_00", "num_05", "num_10", "cat_0", "cat_3")
EVIDENTLY = ["evidently==0.7.23", "pandas<3", "pyarrow", "psutil"]
NANNYML = ["nannyml==0.13.1", "statsmodels", "pandas<3", "pyarrow", "psutil"]
LEVELS = (3, 5, 8, 12, 20, 30, 50, 100, 200, 500)
CHUNK = 1_000_000

EVIDENTLY_RUN = """
import json, warnings
warnings.filterwarnings("ignore")
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
ref, cur = pd.read_parquet({ref!r}), pd.read_parquet({cur!r})
snapshot = Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref)
flagged = []
for m in snapshot.dict()["metrics"]:
    cfg = m.get("config", {{}})
    if cfg.get("type", "").endswith("ValueDrift"):
        method, value, threshold = cfg.get("method", ""), m["value"], cfg.get("threshold")
        p_value = "p_value" in method or method in ("K-S p_value", "chi-square p_value")
        if (value < threshold) if p_value else (value >= threshold):
            flagged.append(cfg["column"])
print(json.dumps({{"flagged": sorted(flagged)}}))
"""

NANNYML_RUN = """
import json, warnings
warnings.filterwarnings("ignore")
import pandas as pd
import nannyml as nml
ref, cur = pd.read_parquet({ref!r}), pd.read_parquet({cur!r})
calc = nml.UnivariateDriftCalculator(column_names=list(ref.columns))
calc.fit(ref)
res = calc.calculate(cur).filter(period="analysis").to_df()
alerts = [c for c in res.columns if c[-1] == "alert"]
flagged = sorted({{c[0] for c in alerts if res[c].any()}})
print(json.dumps({{"flagged": flagged}}))
"""


def _numbers(i: int, n: int, rng: np.random.Generator, shifted: bool) -> pa.Array:
    shape = i % 5
    if shape == 0:
        x = rng.normal(10 * i, 1 + i, n)
    elif shape == 1:
        x = rng.lognormal(1, 0.8, n)
    elif shape == 2:
        x = rng.gamma(2.0, 3.0, n)
    elif shape == 3:
        x = rng.poisson(4 + i, n).astype(np.float64)
    else:
        x = rng.uniform(-5, 5 + i, n)
    if shifted and i in (0, 5):  # both normal(10 i, 1 + i)
        x = x + (0.5 if i == 0 else 0.2) * (1 + i)
    if shifted and i == 10:
        x = 100 + (x - 100) * 1.5  # normal(100, 11): sd x 1.5 around the same mean
    return pa.array(x, mask=rng.random(n) < 0.02 * (i % 3))


def _levels(j: int, shifted: bool) -> np.ndarray:
    k = LEVELS[j]
    p = np.random.default_rng(100 + j).dirichlet(np.ones(k) * 2)
    p = np.sort(p)[::-1]
    if shifted and j == 0:
        p = p[::-1]
    if shifted and j == 3:
        p = p.copy()
        move = min(0.15, p[0] - 0.01)
        p[0] -= move
        p[2] += move
    return p


def chunk(n: int, seed: int, shifted: bool) -> pa.Table:
    rng = np.random.default_rng(seed)
    cols = {f"num_{i:02d}": _numbers(i, n, rng, shifted) for i in range(20)}
    for j, k in enumerate(LEVELS):
        names = np.array([f"c{j}_{v:03d}" for v in range(k)])
        cols[f"cat_{j}"] = pa.array(names[rng.choice(k, n, p=_levels(j, shifted))])
    return pa.table(cols)


def write(path: Path, rows: int, seed: int, shifted: bool) -> None:
    """Write ``rows`` rows a million at a time (10M x 30 would not fit in memory at once)."""
    if path.exists():
        return
    tmp = path.with_suffix(".tmp")
    writer = None
    for start in range(0, rows, CHUNK):
        table = chunk(min(CHUNK, rows - start), seed * 1000 + start // CHUNK, shifted)
        writer = writer or pq.ParquetWriter(tmp, table.schema)
        writer.write_table(table, row_group_size=128 * 1024)
    if writer is not None:
        writer.close()
    tmp.rename(path)


def timed(
    cmd: list[str], cwd: Path | None = None, ok: tuple[int, ...] = (0,)
) -> tuple[str, float, float]:
    """Run ``cmd``; its stdout, wall seconds and peak RSS in MB, measured from outside."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if code not in ok:
            raise SystemExit(f"benchmark child {cmd[:4]} failed ({code}):\n{err.read()[-3000:]}")
        return out.read(), wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def ours(ref: Path, cur: Path) -> dict:
    shipyard = str(Path(sys.executable).with_name("shipyard"))
    project = Path(tempfile.mkdtemp(prefix="drift-bench-"))
    try:
        timed([shipyard, "init", str(project)])
        for name, path in (("reference", ref), ("current", cur)):
            timed([shipyard, "-C", str(project), "ingest", str(path), "--name", name])
        cmd = [shipyard, "-C", str(project), "drift", "reference", "current", "--json"]
        load = os.getloadavg()[0]
        stdout, wall, cpu, peak = timed(cmd, ok=(0, 1))
    finally:
        shutil.rmtree(project, ignore_errors=True)
    report = json.loads(stdout)
    flagged = [c["column"] for c in report["columns"] if c["drifted"]]
    mv = report["multivariate"]
    return {"seconds": wall, "cpu_s": cpu, "peak_mb": peak, "flagged": flagged, "load": load,
            "note": f"multivariate AUC {mv['statistic']:.3f}" if mv else ""}  # fmt: skip


def peer(python: Path, code: str) -> dict:
    load = os.getloadavg()[0]
    stdout, wall, cpu, peak = timed([str(python), "-c", textwrap.dedent(code)])
    flagged = json.loads(stdout.strip().splitlines()[-1])["flagged"]
    return {"seconds": wall, "cpu_s": cpu, "peak_mb": peak, "flagged": flagged, "load": load,
            "note": ""}  # fmt: skip


def show(rows: list[tuple[str, dict]], n: int) -> None:
    print(f"\n{n:,} vs {n:,} rows x 30 columns, planted: {', '.join(PLANTED)}\n")
    head = f"{'system':26s} {'wall s':>7s} {'CPU s':>6s} {'peak RSS':>9s} {'load':>5s} "
    print(head + f"{'caught':>7s} {'false':>6s}  flagged")
    for name, r in rows:
        caught = sum(c in r["flagged"] for c in PLANTED)
        false = [c for c in r["flagged"] if c not in PLANTED]
        print(
            f"{name:26s} {r['seconds']:7.2f} {r['cpu_s']:6.2f} {r['peak_mb']:7.0f}MB "
            f"{r['load']:5.1f} {caught:>5d}/5 {len(false):6d}  "
            f"{', '.join(r['flagged'])} {r['note']}"
        )
    print(
        "wall s / peak RSS: the whole process, start-up to verdict, timed from outside; CPU s: "
        "its user + system time; load: 1-min load average before the run (2 cores, shared)."
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--skip-peers", action="store_true")
    ap.add_argument("--skip-evidently", action="store_true", help="default past 2M rows")
    args = ap.parse_args()
    RESULTS.mkdir(exist_ok=True)
    ref, cur = (
        RESULTS / f"drift_ref_{args.rows}.parquet",
        RESULTS / f"drift_cur_{args.rows}.parquet",
    )
    write(ref, args.rows, seed=1, shifted=False)
    write(cur, args.rows, seed=2, shifted=True)
    rows = [("shipyard drift (CLI)", ours(ref, cur))]
    show(rows, args.rows)
    if not args.skip_peers:
        if not args.skip_evidently and args.rows <= 2_000_000:
            code = EVIDENTLY_RUN.format(ref=str(ref), cur=str(cur))
            rows.append(
                ("Evidently DataDriftPreset", peer(peer_python("evidently", EVIDENTLY), code))
            )
        code = NANNYML_RUN.format(ref=str(ref), cur=str(cur))
        rows.append(("NannyML univariate drift", peer(peer_python("nannyml", NANNYML), code)))
    show(rows, args.rows)
    (RESULTS / f"drift_{args.rows}.json").write_text(
        json.dumps([{"system": s, **r} for s, r in rows], indent=1)
    )


if __name__ == "__main__":
    main()
