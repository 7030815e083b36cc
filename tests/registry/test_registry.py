from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.errors import IntegrityError, InvalidInput, NotFound
from shipyard.ingest import ingest_path
from shipyard.project import Project
from shipyard.registry import approve_model, load_model, promote, resolve_model
from shipyard.train import train


@pytest.fixture
def trained(project: Project, parquet_file: Path) -> Project:
    ingest_path(project, parquet_file, "t")
    train(project, "t", "label", model_name="fraud")
    train(project, "t", "label", model_name="fraud", seed=1)
    return project


def test_refs_resolve_versions_and_aliases(trained: Project) -> None:
    assert resolve_model(trained, "fraud").version == 2
    approve_model(trained, "fraud:1", comment="reviewed")
    promote(trained, "fraud:1", "prod")
    assert resolve_model(trained, "fraud@prod").version == 1
    assert load_model(trained, "fraud@prod").version.ref == "fraud:1"


@pytest.mark.parametrize(
    ("ref", "env", "error", "message"),
    [
        ("fraud:9", "prod", NotFound, "no version 9"),
        ("fraudd:1", "prod", NotFound, "Did you mean 'fraud'"),
        ("fraud:1", "qa", InvalidInput, "dev, staging, prod"),
        ("fraud::1", "prod", InvalidInput, "not a model reference"),
    ],
)
def test_bad_promotions(trained: Project, ref, env, error, message) -> None:
    with pytest.raises(error, match=message):
        promote(trained, ref, env)


def test_missing_alias_says_how_to_set_it(trained: Project) -> None:
    with pytest.raises(NotFound, match="shipyard models promote fraud:VERSION --to staging"):
        load_model(trained, "fraud@staging")


def test_tampered_bundle_is_refused(trained: Project) -> None:
    version = resolve_model(trained, "fraud:1")
    folder = trained.artifacts.local_dir(trained.artifacts.key_of(version.bundle_uri))
    with (folder / "model.pkl").open("ab") as fh:
        fh.write(b"\x00")
    with pytest.raises(IntegrityError, match=r"model\.pkl was modified"):
        load_model(trained, "fraud:1")
