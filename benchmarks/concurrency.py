"""Concurrency: N processes ingest into one dataset, train one model and promote it, at once.

    .venv/bin/python benchmarks/concurrency.py [--processes 4] [--rounds 5] [--postgres URL]

Each worker (``tests/reliability/_concurrency.py``) waits for a common start, then for each
round ingests a new 600-row file into ``shared``, trains ``m`` on that version (a linear
model, with its evaluation report and baseline) and promotes it to an environment. The run
passes with no error, every dataset and model version numbered 1..N x rounds exactly once,
every reported write present, every alias pointing at a version someone promoted there, and
the consistency check clean. SQLite (WAL, the project's catalog.db) always; PostgreSQL with
``--postgres`` (or SHIPYARD_TEST_POSTGRES_URL), in a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the harness lives in tests/

from tests.reliability._concurrency import Verdict, run_writers


def _postgres(url: str, root: Path, processes: int, rounds: int) -> Verdict:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in url else "?"
    try:
        return run_writers(
            root, processes, rounds, catalog_url=f"{url}{sep}options=-csearch_path%3D{schema}"
        )
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", default=os.environ.get("SHIPYARD_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="shipyard-concurrency-") as tmp:
        rows.append(
            ("SQLite (WAL)", run_writers(Path(tmp) / "sqlite", args.processes, args.rounds))
        )
        if args.postgres:
            rows.append(
                (
                    "PostgreSQL",
                    _postgres(args.postgres, Path(tmp) / "pg", args.processes, args.rounds),
                )
            )
    what = f"{args.processes} processes x {args.rounds} rounds of ingest + train + promote"
    print(f"\n{what}, at once\n")
    print("| catalog | writes | errors | lost | duplicate numbers | inconsistencies | seconds |")
    print("|---|---|---|---|---|---|---|")
    for name, v in rows:
        print(
            f"| {name} | {v.writes} | {len(v.errors)} | {len(v.lost)} | {len(v.duplicates)} | "
            f"{len(v.inconsistencies)} | {v.seconds:.0f} |"
        )
    problems = [p for _, v in rows for p in (*v.errors, *v.lost, *v.duplicates, *v.inconsistencies)]
    for problem in problems[:20]:
        print("   ", problem[:800])
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
