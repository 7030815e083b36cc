"""An older catalog is brought to the newest schema on open, keeping its rows."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from shipyard.catalog import _migrate, open_catalog


def test_a_0001_catalog_upgrades_in_place_and_keeps_its_runs(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    engine = sa.create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(_migrate._MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        conn.execute(
            sa.text(
                "INSERT INTO runs (id, experiment, name, status, params, metrics, tags, inputs, "
                "outputs, created_by, started_at) VALUES ('r1', 'e', 'old', 'finished', '{}', "
                "'{}', '{}', '{}', '{}', 'me', '2026-01-01 00:00:00')"
            )
        )
    assert _migrate.current_revision(engine) == "0001"
    engine.dispose()

    catalog = open_catalog(url)
    try:
        run = catalog.get_run("r1")
        assert (run.name, run.host, run.pid, run.heartbeat_at) == ("old", None, None, None)
    finally:
        catalog.close()
    assert _migrate.current_revision(sa.create_engine(url)) == _migrate.HEAD


def test_model_versions_stored_before_0003_are_ready(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    engine = sa.create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(_migrate._MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
        conn.execute(
            sa.text(
                "INSERT INTO model_versions (name, version, bundle_uri, problem_type, signature, "
                "metrics, lineage, created_by, created_at) VALUES ('fraud', 1, 'models/fraud/a', "
                "'binary', '{}', '{}', '{}', 'me', '2026-01-01 00:00:00')"
            )
        )
    engine.dispose()

    catalog = open_catalog(url)
    try:
        assert catalog.get_model_version("fraud").status == "ready"
        assert [v.ref for v in catalog.list_model_versions()] == ["fraud:1"]
    finally:
        catalog.close()
