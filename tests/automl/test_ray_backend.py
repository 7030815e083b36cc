"""The ray backend of the AutoML search, on a local Ray with 2 CPUs."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
import pytest
import sqlalchemy as sa
from optuna.trial import TrialState
from tests._postgres import postgres_schema_url

from shipyard.automl import study_storage
from shipyard.catalog._migrate import HEAD
from shipyard.errors import BackendUnavailable, InvalidInput
from shipyard.project import Project
from shipyard.registry import load_model
from shipyard.settings import load_settings
from shipyard.train import train


@pytest.fixture(scope="module")
def local_ray() -> Iterator[Any]:
    """One Ray for the module (starting one takes about ten seconds)."""
    import ray

    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        logging_level="ERROR",
    )
    yield ray
    ray.shutdown()


@pytest.fixture
def pg_catalog_url() -> Iterator[str]:
    """A PostgreSQL catalog in a schema of its own, dropped afterwards."""
    with postgres_schema_url() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def catalog_project(
    request: pytest.FixtureRequest, project: Project, tmp_path: Path
) -> Iterator[Project]:
    """The project, with its catalog on SQLite (its catalog.db) or on PostgreSQL."""
    if request.param == "sqlite":
        yield project
        return
    url = request.getfixturevalue("pg_catalog_url")
    with Project(project.root, settings=load_settings(project.root, catalog_url=url)) as proj:
        yield proj


def test_the_ray_backend_runs_4_trials_on_local_ray(
    local_ray, catalog_project, tmp_path, frame_of
) -> None:
    from shipyard.ingest import ingest_path

    project = catalog_project
    frame_of(600, "binary").to_parquet(tmp_path / "d.parquet")
    ref = ingest_path(project, tmp_path / "d.parquet", "d").version.ref
    seen = []
    result = train(
        project,
        ref,
        "label",
        model_name="churn",
        time_budget=60,
        families=["lightgbm", "linear", "random_forest"],
        max_trials=4,
        backend="ray",
        on_trial=seen.append,
    )
    search = result.search
    assert search["backend"] == "ray" and search["parallel_trials"] == 2
    assert search["stopped_by"] == "max_trials" and search["failed"] == 0
    assert search["finished"] + search["pruned"] == 4
    assert len(seen) == 4 and seen[-1].best_score > 0.8
    # the driver recorded every trial as a run of the model's experiment
    trials = [r for r in project.catalog.list_runs("churn") if r.tags.get("kind") == "trial"]
    assert len(trials) == 4
    assert all(r.status == "finished" for r in trials)
    assert {r.params["family"] for r in trials} >= {"lightgbm", "linear", "random_forest"}
    job = project.catalog.get_run(result.run.id)
    assert job.params["backend"] == "ray"
    # the study lives beside the catalog, named after the run; the workers reported to it
    storage = study_storage(project.catalog_url)
    if storage.sqlite_path is not None:
        assert storage.sqlite_path == str(project.dir / "optuna.db")
    else:
        assert storage.schema == "optuna"
    with storage.connected() as optuna_storage:
        study = optuna.load_study(study_name=f"shipyard-{result.run.id}", storage=optuna_storage)
        done = [t for t in study.trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
        if storage.schema is not None:  # a shared database: leave no study behind in tests
            optuna.delete_study(study_name=study.study_name, storage=optuna_storage)
    assert len(done) == 4
    assert any(t.intermediate_values for t in done if t.params["family"] == "lightgbm")
    # the trials ran cross-validated on Ray (small data); the model was registered (the
    # bag of fold models, or refit members) and it predicts
    assert search["validation"].startswith("5-fold cross-validation")
    loaded = load_model(project, result.model_version.ref).model
    one = loaded.predict_records([dict(frame_of(1, "binary").iloc[0])])
    assert one.scores.shape == (1,)
    assert result.metrics["test"]["roc_auc"] > 0.8
    assert result.seconds <= 60 * 1.10
    # Ray this process had started before the job is still there for its owner
    assert local_ray.is_initialized()


def test_the_study_keeps_out_of_the_catalogs_tables(catalog_project) -> None:
    project = catalog_project
    project.catalog.list_runs()  # the catalog's tables exist
    with study_storage(project.catalog_url).connected(create=True):
        pass
    engine = sa.create_engine(project.catalog_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        catalog_tables = set(sa.inspect(conn).get_table_names())
        revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    assert "alembic_version" in catalog_tables and "trials" not in catalog_tables
    assert revision == HEAD  # Optuna's schema version went elsewhere


def test_an_unknown_backend_lists_the_choices(project, ingest, frame_of) -> None:
    ref = ingest(frame_of(100, "binary"))
    with pytest.raises(InvalidInput, match=r"must be one of local, ray\. Got 'spark'"):
        train(project, ref, "label", time_budget=10, backend="spark")


def test_the_ray_backend_needs_a_time_budget(project, ingest, frame_of) -> None:
    ref = ingest(frame_of(100, "binary"))
    with pytest.raises(InvalidInput, match="give time_budget"):
        train(project, ref, "label", backend="ray")


def test_without_ray_the_error_gives_the_install_command(
    project, ingest, frame_of, monkeypatch
) -> None:
    ref = ingest(frame_of(100, "binary"))
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(BackendUnavailable, match=r"pip install 'shipyard\[ray\]'"):
        train(project, ref, "label", time_budget=10, backend="ray")
    assert project.catalog.list_runs() == []
