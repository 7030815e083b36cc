"""Paging through 1,000 runs over the REST API: every run once, none twice, in order, under
filters and in both directions, with ties on the sort key and runs lacking the metric."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from shipyard.catalog._tables import runs
from shipyard.project import init_project
from shipyard.security import create_token
from shipyard.server import create_app
from tests.server.conftest import Api

N = 1000
START = datetime(2020, 3, 1, tzinfo=UTC)


def seed_runs(project: Any, n: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """``n`` finished runs in 3 experiments, written in one statement; start times tie in
    fours, scores in hundredths, and every 7th run has no score."""
    rows = []
    for i in range(n):
        score = None if i % 7 == 0 else round(float(rng.random()), 2)
        rows.append(
            {
                "id": uuid.uuid4().hex,
                "experiment": "abc"[i % 3],
                "name": f"trial-{i % 37}",
                "status": "finished",
                "params": {},
                "metrics": {} if score is None else {"valid_score": score},
                "tags": {"kind": "trial"},
                "inputs": {},
                "outputs": {},
                "created_by": "seed",
                "started_at": START + timedelta(seconds=i // 4),
            }
        )
    with project.catalog._engine.begin() as conn:
        conn.execute(runs.insert(), rows)
    return rows


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, list[dict[str, Any]]]]:
    project = init_project(tmp_path_factory.mktemp("paging") / "p")
    rows = seed_runs(project, N, np.random.default_rng(0))
    token = create_token(project, "reader", role="viewer", env="all").token
    yield Api(create_app(project), token), rows
    project.close()


def walk(api: Api, limit: int, **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        page = api.get("/api/v1/runs", params=query)
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= limit
        out += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return out


def expected(rows: list[dict[str, Any]], sort: str, descending: bool) -> list[str]:
    if sort == "metrics.valid_score":
        scored = [r for r in rows if "valid_score" in r["metrics"]]
        missing = [r for r in rows if "valid_score" not in r["metrics"]]
        scored.sort(key=lambda r: (r["metrics"]["valid_score"], r["id"]), reverse=descending)
        missing.sort(key=lambda r: r["id"], reverse=descending)
        return [r["id"] for r in scored + missing]
    ordered = sorted(rows, key=lambda r: (r[sort], r["id"]), reverse=descending)
    return [r["id"] for r in ordered]


@pytest.mark.parametrize("order", ["desc", "asc"])
@pytest.mark.parametrize("sort", ["started_at", "name", "metrics.valid_score"])
@pytest.mark.parametrize("experiment", [None, "b"])
def test_paging_yields_every_run_once_in_order(
    seeded: tuple[Api, list[dict[str, Any]]], sort: str, order: str, experiment: str | None
) -> None:
    api, rows = seeded
    wanted = [r for r in rows if experiment is None or r["experiment"] == experiment]
    params = {"sort": sort, "order": order, **({"experiment": experiment} if experiment else {})}
    got = [r["id"] for r in walk(api, 37, **params)]
    assert len(got) == len(set(got)) == len(wanted)
    assert got == expected(wanted, sort, order == "desc")


def test_runs_added_while_paging_are_neither_repeated_nor_skipped(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    project = init_project(tmp_path / "p")
    try:
        rows = seed_runs(project, 200, rng)
        api = Api(create_app(project), create_token(project, "r", role="viewer", env="all").token)
        first = api.get("/api/v1/runs", params={"limit": 50, "order": "asc"}).json()
        project.catalog.create_run(
            experiment="a", name="late", params={}, tags={}, inputs={}, actor=project.actor
        )
        rest, cursor = [], first["next_cursor"]
        while cursor:
            page = api.get("/api/v1/runs", params={"limit": 50, "order": "asc", "cursor": cursor})
            rest += page.json()["items"]
            cursor = page.json()["next_cursor"]
        seen = [r["id"] for r in first["items"] + rest]
        assert len(seen) == len(set(seen)) == 201  # the late run is newest: on the last page
        assert seen[:200] == expected(rows, "started_at", False)
        changed = api.get(
            "/api/v1/runs", params={"limit": 50, "order": "desc", "cursor": first["next_cursor"]}
        )
        assert changed.status_code == 422 and "another query" in changed.json()["message"]
    finally:
        project.close()
