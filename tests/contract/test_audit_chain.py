"""The audit trail's hash chain, on every catalog backend: SQLite always, PostgreSQL when set."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from tests._postgres import postgres_schema_url

from shipyard.catalog import _migrate, open_catalog
from shipyard.catalog._tables import audit_events
from shipyard.catalog.sql import SqlCatalog
from shipyard.entities import Actor, ColumnSchema

ACTOR = Actor("tester", "sdk")


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalog.db'}"
        return
    with postgres_schema_url() as url:
        yield url


@pytest.fixture
def catalog(url: str) -> Iterator[SqlCatalog]:
    cat = open_catalog(url)
    assert isinstance(cat, SqlCatalog)
    yield cat
    cat.close()


def _write_some(catalog: SqlCatalog, n: int = 5, tag: str = "") -> None:
    for i in range(n):
        catalog.create_dataset_version(
            f"usage{tag}",
            fingerprint=f"f{i}",
            columns=[ColumnSchema("a", "BIGINT")],
            num_rows=10,
            num_bytes=100,
            source="csv:/x.csv",
            location=f"usage/{i}",
            actor=ACTOR,
        )


def _sql(catalog: SqlCatalog, statement: str) -> None:
    with catalog._engine.begin() as conn:
        conn.execute(sa.text(statement))


def test_events_link_to_the_one_before_and_the_chain_verifies(catalog: SqlCatalog) -> None:
    _write_some(catalog, 3)
    catalog.record_event("x.y", "thing", "t1", actor=ACTOR, details={"b": 1, "a": [1, 2]})
    events = list(catalog.iter_events())
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert events[0].prev_hash == "0" * 64 and len({e.hash for e in events}) == 4
    report = catalog.verify_audit_chain()
    assert report.ok and report.events == 4 and report.head == events[-1].hash


def test_the_client_address_is_recorded(catalog: SqlCatalog) -> None:
    event = catalog.record_event(
        "auth.denied", "token", "-", actor=Actor("anonymous", "serve", "10.1.2.3"), details={}
    )
    assert event.address == "10.1.2.3"
    assert catalog.verify_audit_chain().ok


def test_an_edited_event_is_found(catalog: SqlCatalog) -> None:
    _write_some(catalog, 5)
    _sql(catalog, "UPDATE audit_events SET actor = 'mallory' WHERE id = 3")
    report = catalog.verify_audit_chain()
    assert [(b.event_id, b.position) for b in report.breaks] == [(3, 3)]
    assert "edited" in report.breaks[0].reason


def test_a_deleted_event_is_found_at_the_next_one(catalog: SqlCatalog) -> None:
    _write_some(catalog, 5)
    _sql(catalog, "DELETE FROM audit_events WHERE id = 2")
    (only,) = catalog.verify_audit_chain().breaks
    assert only.event_id == 3 and "deleted" in only.reason


def test_reordered_events_are_found(catalog: SqlCatalog) -> None:
    _write_some(catalog, 5)
    table = audit_events
    with catalog._engine.begin() as conn:
        two, four = (
            dict(conn.execute(sa.select(table).where(table.c.id == i)).mappings().one())
            for i in (2, 4)
        )
        for target, row in ((2, four), (4, two)):
            row.pop("id")
            conn.execute(table.update().where(table.c.id == target).values(**row))
    breaks = catalog.verify_audit_chain().breaks
    assert {b.event_id for b in breaks} == {2, 3, 4, 5}
    assert all("link" in b.reason for b in breaks)


def test_events_cut_off_the_end_are_found(catalog: SqlCatalog) -> None:
    _write_some(catalog, 5)
    _sql(catalog, "DELETE FROM audit_events WHERE id = 5")
    (only,) = catalog.verify_audit_chain().breaks
    assert "cut off" in only.reason


def test_concurrent_writers_never_fork_the_chain(url: str) -> None:
    # Several catalog instances (separate connection pools, as separate processes have).
    catalogs = [open_catalog(url) for _ in range(4)]
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            _write_some(catalogs[i % 4], 6, tag=str(i % 2))  # type: ignore[arg-type]
            catalogs[i % 4].record_event("x", "y", str(i), actor=ACTOR, details={})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        report = catalogs[0].verify_audit_chain()  # type: ignore[attr-defined]
        assert report.ok, report.breaks
        assert report.events == 8 * 7
    finally:
        for c in catalogs:
            c.close()


def test_events_written_before_the_migration_are_chained_by_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    engine = sa.create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(_migrate._MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0003")
        for i in range(3):
            conn.execute(
                sa.text(
                    "INSERT INTO audit_events (at, actor, action, object_type, object_id, face, "
                    f"details) VALUES ('2026-01-0{i + 1} 00:00:00', 'me', 'old.{i}', 'x', 'y', "
                    "'cli', '{\"n\": 1}')"
                )
            )
    engine.dispose()
    catalog = open_catalog(url)
    try:
        catalog.record_event("new", "x", "y", actor=ACTOR, details={})
        report = catalog.verify_audit_chain()
        assert report.ok and report.events == 4
        assert [e.action for e in catalog.iter_events()] == ["old.0", "old.1", "old.2", "new"]
    finally:
        catalog.close()
