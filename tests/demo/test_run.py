"""The real-time demo at a small size: feature-store training table, stream replay, monitor."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from shipyard.demo import run_demo
from shipyard.demo._build import constant_columns
from shipyard.demo._console import print_summary
from shipyard.demo.run import DemoSummary
from shipyard.project import open_project


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, str]:
    text = io.StringIO()
    root = tmp_path_factory.mktemp("demo-run") / "p"
    summary = run_demo(
        root,
        subscribers=2_500,
        days=30,
        time_budget=None,
        replay_days=1,
        http_requests=50,
        console=Console(file=text, width=120),
    )
    return summary, text.getvalue()


def test_training_table_comes_from_the_feature_store_with_no_constant_column(demo) -> None:
    summary, text = demo
    assert "no training column is constant" in text
    with open_project(summary.project) as project:
        assert constant_columns(project, "training") == []
        lineage = project.catalog.get_report("training@1", "features.lineage").payload
    assert {g["group"].split(":")[0] for g in lineage["groups"]} == {
        "subscriber_profile",
        "roaming_usage",
    }
    assert lineage["labels"] == "labels@1"


def test_replay_scores_every_record_and_online_equals_offline(demo) -> None:
    summary, text = demo
    replay = summary.replay
    assert replay["records"] > 1000 and replay["skew_ok"]
    assert replay["skew_mismatches"] == 0
    assert "alerts per hour" in text


def test_monitor_sees_labels_arrive_and_serving_is_timed(demo) -> None:
    summary, text = demo
    monitor = summary.monitor
    assert len(monitor["label_versions"]) >= 1 and monitor["reports"]
    assert monitor["measured"], "the matured labels must be measured"
    assert summary.serving["requests"] == 50 and summary.serving["errors"] == 0
    assert summary.serving["p99_ms"] >= summary.serving["p50_ms"] > 0
    assert "monitors show fraud-watch" in text


def test_a_constant_column_is_refused(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from shipyard.ingest import ingest_path
    from shipyard.project import init_project

    pq.write_table(
        pa.table({"a": [1, 2, 3], "b": [7, 7, 7], "c": [None, 1, 1]}), tmp_path / "t.parquet"
    )
    with init_project(tmp_path / "p") as project:
        ingest_path(project, tmp_path / "t.parquet", "t")
        assert constant_columns(project, "t") == ["b"]


def test_the_lifecycle_runs_as_the_roaming_pipeline_and_its_rerun_is_reused(demo) -> None:
    summary, text = demo
    pipeline = summary.pipeline
    assert {"generate", "training-set", "train", "profile", "bias", "batch"} <= set(
        pipeline["reused"]
    )
    assert "train" not in pipeline["ran_again"]
    assert summary.model == "fraud:1" and summary.metrics["test"]
    with open_project(summary.project) as project:
        from shipyard.registry import resolve_model

        prod = "fraud:2" if summary.retrain["promoted"] else "fraud:1"  # the loop's decision
        assert resolve_model(project, "fraud@prod").ref == prod
        assert project.catalog.get_pipeline_run(pipeline["rerun"]).status == "finished"
    assert "gate champion: pass" in text and "cacheable steps reused from run" in text


def test_the_monitor_alerts_start_a_retraining_whose_decision_is_reported(demo) -> None:
    summary, text = demo
    retrain = summary.retrain
    assert retrain["trigger"] == "monitor:fraud-watch" and retrain["candidate"] == "fraud:2"
    assert retrain["decision"] in ("promoted", "kept") and retrain["gate"]
    before, after = retrain["quality"]["champion"], retrain["quality"]["candidate"]
    assert before["model"] == "fraud:1" and after["model"] == "fraud:2"
    assert before["variant_rows"] == after["variant_rows"] > 0
    assert "Before and after, on the recent labelled window" in text
    assert ("promoted: fraud@prod -> fraud:2" in text) == retrain["promoted"]


@pytest.mark.parametrize("promoted", [True, False])
def test_the_closing_table_says_when_the_retrain_replaced_its_model(promoted: bool) -> None:
    summary = DemoSummary(
        project="/tmp/p",
        model="fraud:1",
        metrics={"test": {"roc_auc": 0.9}},
        retrain={"promoted": promoted, "candidate": "fraud:2", "champion": "fraud:1"},
    )
    text = io.StringIO()
    print_summary(summary, Console(file=text, width=120))
    said = "the retrain promoted fraud:2 to fraud@prod" in text.getvalue()
    assert said is promoted
