"""A labelled anomaly model's quality is measured on its label as labels arrive; one
trained without a label says why it cannot be."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from shipyard.ingest import ingest_path
from shipyard.monitor import create_monitor, load_baseline, run_monitor
from shipyard.project import Project, init_project
from shipyard.registry import LoadedModel, approve_model, load_model, promote
from shipyard.train import train
from tests.monitor.conftest import HOUR, usage, write_captures


@pytest.fixture(scope="module")
def odd(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, LoadedModel]:
    root = tmp_path_factory.mktemp("anomaly-monitor")
    project = init_project(root)
    usage(3000, 0).to_parquet(root / "train.parquet")
    ingest_path(project, root / "train.parquet", "usage")
    for label in ("fraud", None):
        exclude = [] if label else ["fraud"]
        train(project, "usage", label, problem_type="anomaly", model_name="odd", exclude=exclude)
    approve_model(project, "odd:1", comment="test fixture")
    promote(project, "odd:1", "prod")
    yield project, load_model(project, "odd@prod")
    project.close()


def _watch(project: Project, name: str, model: str, labels: str) -> dict:
    create_monitor(
        project, name, model=model, kinds="model-quality", labels=labels, label="fraud",
        label_key="request_id",
    )  # fmt: skip
    result = run_monitor(project, name, since=HOUR, until=HOUR + timedelta(hours=1))
    return result.windows[0].run.report  # type: ignore[union-attr]


def test_quality_is_measured_on_the_label_the_anomaly_model_was_chosen_on(
    odd: tuple[Project, LoadedModel], labels_of: Callable[..., str]
) -> None:
    project, loaded = odd
    rows = write_captures(project, loaded, usage(1500, 21))
    labels = labels_of(project, rows, "odd_labels")
    report = _watch(project, "odd-quality", "odd@prod", labels)
    (section,) = report["sections"]
    measured = section["measured"]["metrics"]["roc_auc"]["value"]
    baseline = load_baseline(project, "odd@prod").payload
    assert baseline["positive"] == 1  # the label's positive class, not the decision's True
    assert section["counts"]["labelled"] == 1500
    assert measured > 0.6 and abs(measured - baseline["metrics"]["roc_auc"]["value"]) < 0.1


def test_an_unlabelled_anomaly_model_says_why_its_quality_is_not_measured(
    odd: tuple[Project, LoadedModel], labels_of: Callable[..., str]
) -> None:
    project, _ = odd
    approve_model(project, "odd:2", comment="test fixture")
    promote(project, "odd:2", "staging")
    loaded = load_model(project, "odd:2")
    rows = write_captures(project, loaded, usage(1500, 22))
    labels = labels_of(project, rows, "blind_labels")
    (section,) = _watch(project, "blind-quality", "odd:2", labels)["sections"]
    assert section["status"] == "error" and "trained without a label" in section["summary"]
