from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from shipyard.errors import NotFound
from shipyard.ingest import ingest_path
from shipyard.lake import verify_datasets
from shipyard.project import Project


@pytest.fixture
def two_versions(project: Project, frame, tmp_path: Path) -> Project:
    frame.to_parquet(tmp_path / "a.parquet", index=False)
    frame.head(10).to_parquet(tmp_path / "b.parquet", index=False)
    ingest_path(project, tmp_path / "a.parquet", "events")
    ingest_path(project, tmp_path / "b.parquet", "events")
    ingest_path(project, tmp_path / "b.parquet", "other")
    return project


def _folder(project: Project, ref: str) -> Path:
    name, version = ref.split("@")
    return project.lake.root / project.catalog.get_dataset_version(name, int(version)).location


def test_untouched_versions_are_ok(two_versions: Project) -> None:
    checks = verify_datasets(two_versions)
    assert [(c.ref, c.status) for c in checks] == [
        ("events@1", "ok"),
        ("events@2", "ok"),
        ("other@1", "ok"),
    ]


def test_a_version_with_an_extra_file_is_changed(two_versions: Project) -> None:
    folder = _folder(two_versions, "events@1")
    extra = folder / "part-9.parquet"
    duckdb.sql(f"SELECT * FROM read_parquet('{folder}/part-0.parquet') LIMIT 5").write_parquet(
        str(extra)
    )
    checks = {c.ref: c for c in verify_datasets(two_versions, "events")}
    assert checks["events@1"].status == "changed"
    assert "3,000 rows recorded, 3,005 found" in checks["events@1"].detail
    assert checks["events@2"].ok
    assert [c.status for c in verify_datasets(two_versions, "events", 2)] == ["ok"]


def test_a_rewritten_value_and_missing_files_are_reported(two_versions: Project) -> None:
    part = next(_folder(two_versions, "events@2").glob("*.parquet"))
    duckdb.sql(
        f"SELECT * REPLACE (amount + 1 AS amount) FROM read_parquet('{part}')"
    ).write_parquet(str(part.with_name("new.parquet")))
    part.unlink()
    for old in _folder(two_versions, "other@1").glob("*.parquet"):
        old.unlink()
    checks = {c.ref: c for c in verify_datasets(two_versions)}
    changed = checks["events@2"]
    assert (changed.status, changed.detail) == ("changed", "the values differ")
    assert checks["other@1"].status == "missing"
    assert checks["events@1"].ok


def test_unknown_dataset_is_not_found(two_versions: Project) -> None:
    with pytest.raises(NotFound, match="Did you mean 'events'"):
        verify_datasets(two_versions, "event")
    with pytest.raises(NotFound):
        verify_datasets(two_versions, "events", 9)
