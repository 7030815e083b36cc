"""SQL over a project with many dataset versions: the views a query reads, against every view.

    .venv/bin/python benchmarks/sql_views.py                 # 100 datasets x 3 versions
    .venv/bin/python benchmarks/sql_views.py --datasets 300 --versions 5

Every SQL query (CLI ``shipyard sql``, REST ``POST /sql``, Studio's SQL box) runs on a fresh
sandboxed DuckDB connection with a view per dataset. Making a view reads its Parquet files'
schema, so building one per version of every dataset cost more than most queries. Now
``check_read_only`` names the tables a query reads and only those views are made. This
times one small query both ways on the same project (``connect_views(..., tables=None)``
is the old path), median of 5 runs each.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from shipyard.ingest import ingest_path
from shipyard.lake import check_read_only, connect_views
from shipyard.project import init_project

SQL = "SELECT count(*), avg(x) FROM ds0"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--datasets", type=int, default=100)
    ap.add_argument("--versions", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        project = init_project(root / "project")
        rng = np.random.default_rng(0)
        started = time.perf_counter()
        for i in range(args.datasets):
            for _ in range(args.versions):
                path = root / "part.parquet"
                pd.DataFrame({"id": np.arange(100), "x": rng.normal(size=100)}).to_parquet(path)
                ingest_path(project, path, f"ds{i}")
        versions = args.datasets * args.versions
        print(f"{versions} dataset versions ingested in {time.perf_counter() - started:.1f} s")
        print(f"query: {SQL}")
        for label, tables in (
            ("every view (before)", None),
            ("its own views", check_read_only(SQL)),
        ):
            times = []
            for _ in range(5):
                begin = time.perf_counter()
                con = connect_views(project.catalog, project.lake, project.artifacts, tables)
                con.sql(SQL).fetchall()
                con.close()
                times.append(time.perf_counter() - begin)
            print(f"  {label:<20} median {1000 * float(np.median(times)):7.1f} ms")


if __name__ == "__main__":
    main()
