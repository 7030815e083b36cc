"""Four processes ingest into one dataset, train one model and promote it, all at once: no
error, no lost version, no version number twice, on SQLite (WAL) and on PostgreSQL.

On PostgreSQL the workers also open the new catalog at once, so they race its migrations.
(``benchmarks/concurrency.py`` runs more rounds.)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.catalog import open_catalog
from tests._postgres import postgres_schema_url
from tests.reliability._concurrency import run_writers

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["sqlite", "postgres"])
def catalog_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None for the project's own SQLite catalog, else a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield None
        return
    with postgres_schema_url() as url:
        yield url


def test_four_writers_at_once_lose_and_repeat_nothing(
    tmp_path: Path, catalog_url: str | None
) -> None:
    verdict = run_writers(tmp_path / "p", processes=4, rounds=1, catalog_url=catalog_url)
    assert verdict.errors == []
    assert verdict.writes == 4 * 3  # each: a dataset version, a model version, a promotion
    assert verdict.lost == []
    assert verdict.duplicates == []
    assert verdict.inconsistencies == []


def test_a_new_catalog_opened_at_once_migrates_once(
    catalog_url: str | None, tmp_path: Path
) -> None:
    url = catalog_url or f"sqlite:///{tmp_path / 'catalog.db'}"
    opened: list[object] = []
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            opened.append(open_catalog(url))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    for catalog in opened:
        catalog.close()  # type: ignore[attr-defined]
