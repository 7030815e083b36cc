"""Ingest speed: rows per second of CSV -> dataset version, beside DuckDB's own CSV -> Parquet.

DuckDB's ``COPY (SELECT * FROM read_csv(...)) TO 'x.parquet'`` is the floor: Shipyard's ingest
does that work plus the reject check, the content fingerprint and the catalog transaction.

    .venv/bin/python benchmarks/ingest.py [--rows 2000000]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from shipyard.demo import generate
from shipyard.ingest import ingest_path
from shipyard.project import init_project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=60)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="shipyard-bench-ingest-"))
    try:
        generate(work / "raw", subscribers=args.subscribers, days=args.days)
        csv = work / "usage.csv"
        con = duckdb.connect()
        con.execute(f"COPY (SELECT * FROM '{work / 'raw' / 'usage.parquet'}') TO '{csv}'")
        rows = con.execute(f"SELECT count(*) FROM read_csv('{csv}')").fetchone()[0]  # type: ignore[index]
        size_mb = csv.stat().st_size / 1e6

        started = time.perf_counter()
        con.execute(
            f"COPY (SELECT * FROM read_csv('{csv}')) TO '{work / 'floor.parquet'}' "
            "(FORMAT parquet, COMPRESSION zstd)"
        )
        floor = time.perf_counter() - started
        con.close()

        project = init_project(work / "proj")
        started = time.perf_counter()
        ingest_path(project, csv, "usage")
        ours = time.perf_counter() - started
        project.close()

        print(f"CSV: {rows:,} rows, {size_mb:.0f} MB (demo usage table)")
        print(f"{'system':34s} {'seconds':>8s} {'rows/s':>12s}")
        print(f"{'DuckDB read_csv -> Parquet (floor)':34s} {floor:8.2f} {rows / floor:12,.0f}")
        print(f"{'shipyard ingest':34s} {ours:8.2f} {rows / ours:12,.0f}")
        print(f"overhead over the floor: {ours / floor:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
