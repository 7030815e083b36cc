"""A project folder can be moved, and a bundle from other library versions loads with a warning."""

from __future__ import annotations

import json
import shutil
import warnings
from importlib import metadata
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.e2e.cli import shipyard

from shipyard.artifacts import write_manifest
from shipyard.errors import LibraryVersionWarning
from shipyard.ingest import ingest_path
from shipyard.project import Project, open_project
from shipyard.registry import load_model, resolve_model
from shipyard.train import train


@pytest.fixture
def registered(project: Project, parquet_file: Path) -> Project:
    ingest_path(project, parquet_file, "t")
    train(project, "t", "label", model_name="fraud")
    return project


def _move(project: Project, to: Path) -> Project:
    project.close()
    shutil.move(project.root, to)
    return open_project(to)


def test_a_moved_project_loads_its_models(registered: Project, tmp_path: Path) -> None:
    assert "://" not in resolve_model(registered, "fraud:1").bundle_uri
    moved = _move(registered, tmp_path / "elsewhere")
    with moved, warnings.catch_warnings():
        warnings.simplefilter("error")  # and no library-version warning on a same-env load
        loaded = load_model(moved, "fraud:1")
    assert loaded.path.is_relative_to(tmp_path / "elsewhere")
    assert not registered.root.exists()


def test_a_bundle_recorded_by_absolute_uri_loads_after_a_move(
    registered: Project, tmp_path: Path
) -> None:
    key = resolve_model(registered, "fraud:1").bundle_uri
    old_uri = registered.artifacts.uri(key)  # what registering recorded before this change
    engine = sa.create_engine(registered.catalog_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE model_versions SET bundle_uri = :u"), {"u": old_uri})
    engine.dispose()
    moved = _move(registered, tmp_path / "restored")
    with moved:
        assert resolve_model(moved, "fraud:1").bundle_uri.startswith(f"file://{tmp_path}/proj/")
        loaded = load_model(moved, "fraud:1")
    assert loaded.path == tmp_path / "restored" / ".shipyard" / "artifacts" / key


def _pretend_written_with(project: Project, libraries: dict[str, str]) -> None:
    """Rewrite the bundle's recorded library versions (and its manifest, as if genuine)."""
    version = resolve_model(project, "fraud:1")
    folder = project.artifacts.local_dir(project.artifacts.key_of(version.bundle_uri))
    meta = json.loads((folder / "model.json").read_text())
    meta["libraries"].update(libraries)
    (folder / "model.json").write_text(json.dumps(meta))
    write_manifest(folder)


def test_a_bundle_from_other_library_versions_loads_with_a_warning(registered: Project) -> None:
    _pretend_written_with(registered, {"scikit-learn": "0.0.1", "numpy": "1.0.0"})
    sklearn, numpy = metadata.version("scikit-learn"), metadata.version("numpy")
    with pytest.warns(LibraryVersionWarning) as caught:
        loaded = load_model(registered, "fraud:1")
    assert loaded.version.ref == "fraud:1"
    message = str(caught[0].message)
    assert f"numpy 1.0.0 (installed: {numpy})" in message
    assert f"scikit-learn 0.0.1 (installed: {sklearn})" in message
    assert "lightgbm" not in message  # only what differs is named


@pytest.mark.e2e
def test_the_cli_shows_the_library_warning_as_one_line(registered: Project) -> None:
    _pretend_written_with(registered, {"scikit-learn": "0.0.1"})
    registered.close()
    proc = shipyard(registered.root, "batch", "fraud:1", "--input", "t", "--output", "s")
    assert "Warning: The model bundle at" in proc.stderr
    assert "scikit-learn 0.0.1 (installed:" in proc.stderr
    assert "Traceback" not in proc.stderr and "warnings.warn" not in proc.stderr
