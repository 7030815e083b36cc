"""Promotion gates: each passes and fails on a planted case, and an override is audited.

One project is trained once per module (four small linear models on one dataset) and copied
for each test, so every test starts from the same catalog without training again:

- ``fraud:1`` weak (x1 and x2, where the signal is, left out)
- ``fraud:2`` strong (every column; its decisions differ a lot by ``roaming``)
- ``fraud:3`` strong without ``roaming`` (its decisions barely differ by it)
- ``leaky:1`` trained with --allow-leakage on a table whose rows repeat (an error finding)
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import learnable_frame

from shipyard.errors import InvalidInput, NotFound
from shipyard.ingest import ingest_path
from shipyard.monitor import BASELINE_KIND
from shipyard.project import Project, init_project, open_project
from shipyard.registry import (
    BASELINE_REPORT,
    PromotionRefused,
    approval_history,
    approve_model,
    load_model,
    model_history,
    promote,
    register_model,
    reject_model,
    resolve_model,
)
from shipyard.train import train

BIAS = "bias: {facets: [{column: roaming, values: [true], limits: {DPPL: 0.2, DI: [0.6, 1.6]}}]}"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gates") / "proj"
    with init_project(root) as project:
        frame = learnable_frame(np.random.default_rng(0), 2000, "binary")
        frame.to_parquet(root / "d.parquet")
        ingest_path(project, root / "d.parquet", "d")
        for exclude in (["x1", "x2"], [], ["roaming"]):
            train(project, "d", "label", model_name="fraud", family="linear", exclude=exclude)
        pd.concat([frame.iloc[:600]] * 2).to_parquet(root / "dup.parquet")
        ingest_path(project, root / "dup.parquet", "dup")
        train(project, "dup", "label", model_name="leaky", family="linear", allow_leakage=True)
    return root


@pytest.fixture
def proj(template: Path, tmp_path: Path) -> Project:
    root = tmp_path / "proj"
    shutil.copytree(template, root)
    with open_project(root) as project:
        yield project


def _gates(project: Project, env: str, text: str) -> None:
    (project.root / "shipyard.yaml").write_text(f"environments:\n  {env}:\n    gates: {text}\n")


def _refused(project: Project, ref: str, env: str) -> PromotionRefused:
    with pytest.raises(PromotionRefused) as caught:
        promote(project, ref, env)
    return caught.value


def test_every_prod_gate_passes_for_an_approved_better_candidate(proj: Project) -> None:
    _gates(proj, "prod", "{" + BIAS + "}")
    approve_model(proj, "fraud:1", comment="first model")
    approve_model(proj, "fraud:3", comment="beats it")
    promote(proj, "fraud:1", "prod", force=True, reason="the first champion: bias unknown")
    result = promote(proj, "fraud:3", "prod")
    assert [g.gate for g in result.gates] == [
        "approval", "diagnostics", "baseline", "bias", "champion",
    ]  # fmt: skip
    assert all(g.passed for g in result.gates), [g.summary for g in result.gates]
    assert (result.outcome, result.previous, result.version.ref) == ("promoted", 1, "fraud:3")
    assert resolve_model(proj, "fraud@prod").ref == "fraud:3"
    champion = result.gates[-1].evidence
    assert champion["champion_ref"] == "fraud:1" and champion["metric"] == "roc_auc"
    assert champion["candidate"] > champion["champion"] + 0.1
    assert 0 < champion["ci95"][0] <= champion["improvement"] <= champion["ci95"][1]
    assert champion["rows"] == 300 and champion["champion_saw_rows"] == 0  # same split
    (facet,) = result.gates[3].evidence["facets"]
    assert {c["metric"] for c in facet["checks"]} == {"DPPL", "DI"}


def test_a_worse_candidate_is_refused_by_the_champion_gate(proj: Project) -> None:
    for ref in ("fraud:1", "fraud:2"):
        approve_model(proj, ref, comment="reviewed")
    promote(proj, "fraud:2", "prod")
    refused = _refused(proj, "fraud:1", "prod")
    (champion,) = [g for g in refused.gates if not g.passed]
    assert champion.gate == "champion"
    assert champion.evidence["improvement"] < 0 and champion.evidence["ci95"][1] < 0
    assert "fraud:2" in champion.summary and "needs lower end > 0" in champion.summary
    assert "champion: roc_auc" in refused.message and "--force" in refused.message
    assert resolve_model(proj, "fraud@prod").ref == "fraud:2"
    assert proj.catalog.list_events(limit=1)[0].action == "model.promote.refused"
    assert model_history(proj, "fraud:1").promotions[-1].outcome == "refused"


def test_a_margin_below_zero_accepts_a_candidate_no_worse_than_the_champion(
    proj: Project,
) -> None:
    _gates(proj, "staging", "{champion: {margin: -0.05, resamples: 300}}")
    promote(proj, "fraud:2", "staging")
    result = promote(proj, "fraud:3", "staging")  # same signal, roaming left out: close
    evidence = result.gates[-1].evidence
    assert evidence["margin"] == -0.05 and evidence["resamples"] == 300
    assert -0.05 < evidence["ci95"][0] < 0.0  # not better beyond chance, but not worse


def test_a_biased_candidate_is_refused_by_the_bias_gate(proj: Project) -> None:
    _gates(proj, "dev", "{" + BIAS + "}")
    refused = _refused(proj, "fraud:2", "dev")
    (bias,) = refused.gates
    checks = bias.evidence["facets"][0]["checks"]
    assert {(c["metric"], c["ok"]) for c in checks} == {("DPPL", False), ("DI", False)}
    assert "DPPL roaming = True" in bias.summary and "limit |x| <= 0.2" in bias.summary
    assert promote(proj, "fraud:3", "dev").gates[0].passed


def test_a_missing_baseline_fails_the_baseline_gate(proj: Project) -> None:
    loaded = load_model(proj, "fraud:2")
    bare = register_model(
        proj, "fraud", loaded.model, run_id=None, metrics={}, lineage={"dataset": "d@1"}
    )
    refused = _refused(proj, bare.ref, "staging")
    assert [g.gate for g in refused.gates if not g.passed] == ["baseline"]
    assert f"shipyard models baseline {bare.ref} --create" in refused.message
    assert promote(proj, "fraud:2", "staging").gates[1].evidence["reference_rows"] == 300
    assert BASELINE_REPORT == BASELINE_KIND  # the gate reads the report the monitor room writes


def test_an_unapproved_version_is_refused_in_prod_only(proj: Project) -> None:
    refused = _refused(proj, "fraud:2", "prod")
    assert [g.gate for g in refused.gates if not g.passed] == ["approval"]
    assert "PendingManualApproval" in refused.message
    assert promote(proj, "fraud:2", "staging").outcome == "promoted"  # staging needs none
    approve_model(proj, "fraud:2", comment="ok")
    assert promote(proj, "fraud:2", "prod").gates[0].summary == "Approved by " + (
        f"{proj.actor.name} (ok)"
    )


def test_a_diagnostics_error_fails_the_diagnostics_gate(proj: Project) -> None:
    refused = _refused(proj, "leaky:1", "staging")
    (diagnostics,) = [g for g in refused.gates if not g.passed]
    assert diagnostics.gate == "diagnostics"
    assert [f["check"] for f in diagnostics.evidence["failing"]] == ["duplicate_rows"]
    assert promote(proj, "fraud:2", "staging").gates[0].passed


def test_a_stricter_diagnostics_gate_fails_on_warnings_too(proj: Project) -> None:
    version = resolve_model(proj, "fraud:2")
    warned = register_model(
        proj, "fraud", load_model(proj, "fraud:2").model, run_id=None, metrics={},
        lineage={**version.lineage, "diagnostics": [
            {"check": "overfitting", "severity": "warning", "message": "valid loss rose"}
        ]},
    )  # fmt: skip
    assert promote(proj, warned.ref, "dev").gates == ()
    _gates(proj, "dev", "{diagnostics: {fail_on: warning}}")
    (diagnostics,) = _refused(proj, warned.ref, "dev").gates
    assert diagnostics.evidence["counts"]["warning"] == 1


def test_a_forced_promotion_needs_a_reason_and_is_audited(proj: Project) -> None:
    with pytest.raises(InvalidInput, match="give the reason"):
        promote(proj, "fraud:2", "prod", force=True)
    result = promote(proj, "fraud:2", "prod", force=True, reason="incident 42: hotfix")
    assert result.outcome == "forced" and [g.gate for g in result.failed] == ["approval"]
    assert resolve_model(proj, "fraud@prod").ref == "fraud:2"
    override = next(e for e in proj.catalog.list_events() if e.action.startswith("model.promote"))
    assert (override.action, override.object_id) == ("model.promote.override", "fraud:2")
    assert override.details == {
        "environment": "prod",
        "failed": ["approval"],
        "reason": "incident 42: hotfix",
    }
    assert override.actor == proj.actor.name and proj.catalog.verify_audit_chain().ok
    (record,) = model_history(proj, "fraud:2").promotions
    assert (record.outcome, record.reason, record.failed) == (
        "forced",
        "incident 42: hotfix",
        ("approval",),
    )


def test_a_rejected_version_is_refused_even_with_force(proj: Project) -> None:
    reject_model(proj, "fraud:2", comment="uses a feature we may not use")
    for force in (False, True):
        with pytest.raises(PromotionRefused, match="never promoted, not even with --force"):
            promote(proj, "fraud:2", "dev", force=force, reason="please")
    with pytest.raises(NotFound):
        resolve_model(proj, "fraud@dev")
    assert {r.outcome for r in model_history(proj, "fraud:2").promotions} == {"refused"}
    approve_model(proj, "fraud:2", comment="the feature is allowed after all")
    assert promote(proj, "fraud:2", "dev").outcome == "promoted"


def test_the_approval_history_records_who_when_and_why(proj: Project) -> None:
    approve_model(proj, "fraud:2", comment="report reviewed")
    reject_model(proj, "fraud:2", comment="drift on roaming")
    approve_model(proj, "fraud:2", comment="retested")
    history = approval_history(proj, "fraud:2")
    assert [(c.previous, c.status, c.comment) for c in history] == [
        ("PendingManualApproval", "Approved", "report reviewed"),
        ("Approved", "Rejected", "drift on roaming"),
        ("Rejected", "Approved", "retested"),
    ]
    assert {c.changed_by for c in history} == {proj.actor.name}
    approvals = [e for e in proj.catalog.list_events() if e.action == "model.approval"]
    assert len(approvals) == 3
    with pytest.raises(InvalidInput, match="Say why"):
        approve_model(proj, "fraud:1", comment=" ")


def test_a_champion_without_held_out_rows_cannot_be_compared(proj: Project) -> None:
    promote(proj, "fraud:2", "dev")
    bare = register_model(
        proj, "fraud", load_model(proj, "fraud:3").model, run_id=None, metrics={}, lineage={}
    )
    _gates(proj, "dev", "{champion: true}")
    (champion,) = _refused(proj, bare.ref, "dev").gates
    assert "records no held-out rows" in champion.summary
    assert promote(proj, "fraud:2", "dev").gates[0].summary == "fraud:2 is the champion already"


def test_promoting_to_an_unknown_environment_names_the_choices(proj: Project) -> None:
    with pytest.raises(InvalidInput, match=r"one of dev, staging, prod\. Got 'qa'"):
        promote(proj, "fraud:2", "qa")
    assert proj.catalog.list_promotions("fraud") == []
