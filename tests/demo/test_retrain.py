"""The retraining loop at a small size (one LightGBM fit): the roaming pipeline again with
the later period and the labels known by a date, gated on the most recent labelled window."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from rich.console import Console

from shipyard.demo._pipeline import Pipelined, roaming_run, run_roaming, write_config
from shipyard.demo._retrain import Retrained, retrain
from shipyard.demo._watch import MATURITY
from shipyard.features import FEATURES_KEY
from shipyard.lake import connect_views
from shipyard.project import Project, init_project, open_project

PARAMS = {"subscribers": 2_500, "days": 30, "seed": 0, "time_budget": 0.0}
MONITOR = "fraud-drift"  # the standing monitor the pipeline makes
KNOWN_BY = datetime(2026, 2, 11)  # the 30 days' labels have all matured
EARLY = datetime(2026, 1, 29)  # three days into the drift (from 2026-01-26)


@dataclass
class Loop:
    root: Path
    retrained: Retrained
    refused: Retrained
    early: Pipelined
    bad: Pipelined


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Loop:
    out = Console(file=io.StringIO(), width=120)
    root = tmp_path_factory.mktemp("retrain") / "p"
    with init_project(root, face="cli") as project:
        write_config(project)
        run_roaming(project, PARAMS, out)
        retrained = retrain(project, PARAMS, KNOWN_BY, MONITOR, out)
        # The same data again, with a margin no candidate can clear: the gate refuses.
        refused = retrain(project, {**PARAMS, "margin": 1.0}, KNOWN_BY, MONITOR, out)
        early = roaming_run(project, {**PARAMS, "known_by": EARLY.isoformat()}, out)
        bad = roaming_run(project, {**PARAMS, "known_by": "next tuesday"}, out)
    return Loop(root, retrained, refused, early, bad)


def _sql(project: Project, sql: str) -> tuple:
    con = connect_views(project.catalog, project.lake)
    try:
        row = con.execute(sql).fetchone()
    finally:
        con.close()
    assert row is not None
    return row


def test_the_retraining_is_gated_on_the_recent_window_and_its_decision_recorded(loop) -> None:
    found = loop.retrained
    assert found.run and found.candidate == "fraud:2" and found.champion == "fraud:1"
    assert found.gate["candidate"] == "fraud:2" and found.gate["champion"] == "fraud:1"
    assert isinstance(found.gate["passed"], bool)
    assert found.decision == ("promoted" if found.gate["passed"] else "kept")
    assert found.window["days"] == 3 and found.window["since"] == "2026-01-28"
    with open_project(loop.root) as project:
        from shipyard.registry import resolve_model

        prod = resolve_model(project, "fraud@prod").ref
        run = project.catalog.get_pipeline_run(found.run)
        served = resolve_model(project, "fraud:2").lineage.get(FEATURES_KEY) or {}
    assert prod == ("fraud:2" if found.promoted else "fraud:1")
    assert run.trigger == "monitor:fraud-drift"
    assert run.params["known_by"] == KNOWN_BY.isoformat()
    assert run.params["alert"]["monitor"] == MONITOR
    # Trained on the training set with a split column, it is served from the same groups.
    assert {g["group"] for g in served.get("groups", [])} == {"subscriber_profile", "roaming_usage"}


def test_before_and_after_are_measured_on_the_window_and_the_new_variant(loop) -> None:
    quality = loop.retrained.quality
    assert set(quality) == {"champion", "candidate"}
    for role, q in quality.items():
        assert q["model"] == ("fraud:1" if role == "champion" else "fraud:2")
        assert q["rows"] == loop.retrained.window["rows"] and q["fraud"] > 0
        assert q["variant"] == "wangiri" and q["variant_rows"] > 0
        assert 0 <= q["all_pr_auc"] <= 1 and 0 <= q["variant_pr_auc"] <= 1
        assert 0 <= q["variant_recall"] <= 1
    # The gate read the same window the figures were measured on.
    assert loop.retrained.gate["candidate_value"] == pytest.approx(
        quality["candidate"]["all_pr_auc"], abs=1e-4
    )


def test_a_refused_gate_keeps_the_champion(loop) -> None:
    found = loop.refused
    assert found.gate["passed"] is False and found.decision == "kept" and not found.promoted
    assert "the gate refused it" in found.reason
    assert found.quality["candidate"]["variant_rows"] > 0


def test_the_holdout_window_is_never_fitted_on(loop) -> None:
    result = loop.early.result
    window = result.outputs("recent-window")["window"]
    assert result.outputs("train")["metrics"]["test"]["rows"] == window["rows"]


def test_retraining_sees_no_record_and_no_label_after_known_by(loop) -> None:
    result = loop.early.result
    usage = result.outputs("arrive")["usage"]
    table = result.outputs("training-set")["dataset"]
    at, until = f"TIMESTAMP '{EARLY:%Y-%m-%d %H:%M:%S}'", EARLY - MATURITY
    with open_project(loop.root) as project:
        lineage = project.catalog.get_report(table, "features.lineage").payload
        newest, arrived, later = _sql(
            project,
            f'SELECT (SELECT max(event_time) FROM "{usage}"), '
            f"(SELECT count(*) FROM \"{usage}\" WHERE event_time >= TIMESTAMP '2026-01-26'), "
            f"(SELECT count(*) FROM usage_later WHERE event_time < {at})",
        )
        last_row, unknown_fraud = _sql(
            project,
            f"SELECT max(t.event_time), count(*) FILTER (WHERE t.is_fraud = 1 AND "
            f'(l.confirmed_at IS NULL OR l.confirmed_at > {at})) FROM "{table}" t '
            "LEFT JOIN labels l ON l.subscriber_id = t.subscriber_id AND l.day = t.day",
        )
    assert lineage["labels_known_by"] == EARLY.isoformat()
    assert newest < EARLY and arrived == later > 0  # the later records before it, no more
    assert last_row < until and unknown_fraud == 0


def test_a_bad_known_by_stops_the_run_at_arrive_with_a_clear_error(loop) -> None:
    failed = loop.bad.failed
    assert not loop.bad.result.ok and failed is not None and failed.step == "arrive"
    assert "ISO date" in (failed.error or "")
