"""Promotion into an environment with its own catalog and artifact store: the bundle is copied
and verified by its manifest, the version is registered there as it is here, and nothing done
in dev afterwards changes what prod resolves or loads."""

from __future__ import annotations

import hashlib
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests._postgres import postgres_schema_url
from tests.conftest import learnable_frame

from shipyard.errors import Conflict, IntegrityError, NotFound
from shipyard.ingest import ingest_path
from shipyard.monitor import load_baseline
from shipyard.project import Project, init_project
from shipyard.registry import (
    PromotionRefused,
    approve_model,
    list_versions,
    load_model,
    model_history,
    promote,
    resolve_model,
)
from shipyard.settings import load_settings
from shipyard.train import train

ROWS = learnable_frame(np.random.default_rng(7), 40, "binary").drop(columns=["label"])


def _config(root: Path, catalog_url: str) -> None:
    (root / "shipyard.yaml").write_text(
        "environments:\n"
        "  prod:\n"
        f"    catalog_url: '{catalog_url}'\n"
        "    artifacts_url: prod-store/artifacts\n"
        "    gates: {champion: {resamples: 200}}\n"
    )


def _dev(root: Path, seed: int = 0) -> Project:
    project = init_project(root)
    frame = learnable_frame(np.random.default_rng(seed), 1500, "binary")
    frame.to_parquet(root / f"d{seed}.parquet")
    ingest_path(project, root / f"d{seed}.parquet", "d")
    train(project, "d", "label", model_name="fraud", family="linear", seed=seed)
    return project


def _prod_side(root: Path, catalog_url: str) -> Project:
    """Prod as its own server would open it: its own catalog and store, nothing of dev's."""
    settings = load_settings(
        root, catalog_url=catalog_url, artifacts_url=str(root / "prod-store" / "artifacts")
    )
    return Project(root, settings=settings)


def _digest(project: Project, ref: str) -> str:
    version = resolve_model(project, ref)
    folder = project.artifacts.local_dir(project.artifacts.key_of(version.bundle_uri))
    return hashlib.sha256((folder / "MANIFEST.json").read_bytes()).hexdigest()


@pytest.fixture(params=["sqlite", "postgres"])
def prod_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'proj' / 'prod-store' / 'catalog.db'}"
        return
    with postgres_schema_url() as url:
        yield url


def test_nothing_done_in_dev_changes_what_prod_serves(tmp_path: Path, prod_url: str) -> None:
    root = tmp_path / "proj"
    dev = _dev(root)
    _config(root, prod_url)
    approve_model(dev, "fraud:1", comment="reviewed")
    result = promote(dev, "fraud:1", "prod")
    assert result.copied and result.version.ref == "fraud:1"
    with _prod_side(root, prod_url) as prod:
        digest = _digest(prod, "fraud@prod")
        scores = load_model(prod, "fraud@prod").model.predict_frame(ROWS).scores
    assert digest == _digest(dev, "fraud:1")

    # Dev trains, promotes to its own environments, moves its own catalog's "prod" alias...
    train(dev, "d", "label", model_name="fraud", family="linear", exclude=["x1"])
    promote(dev, "fraud:2", "dev")
    promote(dev, "fraud:2", "staging")
    dev.catalog.set_alias("fraud", "prod", 2, actor=dev.actor)
    # ...tampers with and then deletes every artifact it has, and its whole catalog...
    for bundle in (root / ".shipyard" / "artifacts" / "models" / "fraud").iterdir():
        (bundle / "model.pkl").write_bytes(b"not a model")
    dev.close()
    shutil.rmtree(root / ".shipyard")
    # ...and starts again: another model registered as fraud:1, promoted to prod.
    again = _dev(root, seed=1)
    approve_model(again, "fraud:1", comment="looks the same")
    with pytest.raises(Conflict, match="another bundle"):
        promote(again, "fraud:1", "prod")
    again.close()

    with _prod_side(root, prod_url) as prod:
        assert resolve_model(prod, "fraud@prod").ref == "fraud:1"
        assert _digest(prod, "fraud@prod") == digest
        assert np.array_equal(
            load_model(prod, "fraud@prod").model.predict_frame(ROWS).scores, scores
        )
        assert [v.ref for v in list_versions(prod)] == ["fraud:1"]


def test_the_environment_gets_the_same_version_with_its_history_and_reports(
    tmp_path: Path,
) -> None:
    root = tmp_path / "proj"
    dev = _dev(root)
    prod_url = f"sqlite:///{root / 'prod-store' / 'catalog.db'}"
    _config(root, prod_url)
    approve_model(dev, "fraud:1", comment="reviewed")
    promote(dev, "fraud:1", "prod")
    source = resolve_model(dev, "fraud:1")
    with _prod_side(root, prod_url) as prod:
        there = resolve_model(prod, "fraud@prod")
        same = ("signature", "metrics", "lineage", "approval", "created_by", "run_id")
        assert {k: getattr(there, k) for k in same} == {k: getattr(source, k) for k in same}
        assert there.aliases == ("prod",) and there.approval == "Approved"
        history = model_history(prod, "fraud:1")
        assert [c.comment for c in history.approvals] == ["reviewed"]
        assert [(r.environment, r.outcome) for r in history.promotions] == [("prod", "promoted")]
        assert {g.gate for g in history.promotions[0].gates} == {
            "approval", "diagnostics", "baseline", "champion",
        }  # fmt: skip
        loaded = load_model(prod, "fraud@prod")
        assert loaded.path.is_relative_to(root / "prod-store" / "artifacts")
        baseline = load_baseline(prod, "fraud@prod")
        reference = prod.artifacts.get_bytes(prod.artifacts.key_of(baseline.reference_uri))
        assert len(pd.read_parquet(io.BytesIO(reference))) == 225
        assert prod.catalog.get_report("fraud:1", "evaluation").payload["model"] == "fraud:1"
        actions = [e.action for e in prod.catalog.list_events()]
        assert {"model.import", "model.copy", "model.promote", "model.alias"} <= set(actions)
    # Seen from dev: fraud@prod is prod's; dev's own catalog has no prod alias.
    assert load_model(dev, "fraud@prod").path.is_relative_to(root / "prod-store")
    assert resolve_model(dev, "fraud:1").aliases == ()
    assert [r.environment for r in model_history(dev, "fraud:1").promotions] == ["prod"]
    assert [v.ref for v in list_versions(dev, environment="prod")] == ["fraud:1"]
    again = promote(dev, "fraud:1", "prod")  # idempotent: same bundle, nothing copied
    assert not again.copied and again.previous == 1
    # The champion is prod's: a worse dev model is scored against it and refused.
    train(dev, "d", "label", model_name="fraud", family="linear", exclude=["x1", "x2"])
    approve_model(dev, "fraud:2", comment="smaller")
    with pytest.raises(PromotionRefused) as refused:
        promote(dev, "fraud:2", "prod")
    (champion,) = [g for g in refused.value.gates if not g.passed]
    assert champion.evidence["champion_ref"] == "fraud:1" and champion.evidence["ci95"][1] < 0
    with _prod_side(root, prod_url) as prod:
        assert [v.ref for v in list_versions(prod)] == ["fraud:1"]


def test_a_tampered_source_bundle_is_refused_and_nothing_lands_in_prod(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    dev = _dev(root)
    prod_url = f"sqlite:///{root / 'prod-store' / 'catalog.db'}"
    _config(root, prod_url)
    approve_model(dev, "fraud:1", comment="reviewed")
    version = resolve_model(dev, "fraud:1")
    folder = dev.artifacts.local_dir(dev.artifacts.key_of(version.bundle_uri))
    with (folder / "signature.json").open("a") as fh:
        fh.write(" ")
    for force in (False, True):
        with pytest.raises(IntegrityError, match=r"signature\.json was modified"):
            promote(dev, "fraud:1", "prod", force=force, reason="try anyway")
    with _prod_side(root, prod_url) as prod:
        assert list_versions(prod) == []
        with pytest.raises(NotFound):
            resolve_model(prod, "fraud@prod")
    assert not list((root / "prod-store" / "artifacts").glob("models/*/*"))
