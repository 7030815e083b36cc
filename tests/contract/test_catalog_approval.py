"""The catalog's approval and promotion contract (status, history, promotion records with
their gates, importing a version from another catalog), on every backend."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests._postgres import postgres_schema_url
from tests.contract.test_catalog import catalog  # noqa: F401 - the backend fixture

from shipyard.catalog import Catalog, open_catalog
from shipyard.entities import Actor, GateResult, ModelVersion
from shipyard.errors import AlreadyExists, Conflict, InvalidInput, NotFound

ACTOR = Actor("alice", "cli")
GATES = (
    GateResult("approval", True, "Approved by alice", {"status": "Approved"}),
    GateResult("champion", False, "roc_auc 0.81 vs fraud:1 0.83", {"ci95": [-0.04, 0.01]}),
)


def _model(cat: Catalog, name: str = "fraud") -> ModelVersion:
    return cat.create_model_version(
        name,
        run_id=None,
        bundle_uri=f"models/{name}/abc",
        problem_type="binary",
        signature={"inputs": [{"name": "x", "type": "number"}]},
        metrics={"test": {"roc_auc": 0.8}},
        lineage={"dataset": "d@1"},
        actor=ACTOR,
    )


def test_a_new_version_waits_for_manual_approval(catalog: Catalog) -> None:  # noqa: F811
    version = _model(catalog)
    assert version.approval == "PendingManualApproval"
    assert catalog.get_model_version("fraud", 1).approval == "PendingManualApproval"
    assert catalog.list_approvals("fraud", 1) == []


def test_approval_changes_are_kept_in_order_and_audited(catalog: Catalog) -> None:  # noqa: F811
    _model(catalog)
    first = catalog.set_approval("fraud", 1, "Approved", comment="report reviewed", actor=ACTOR)
    bob = Actor("bob", "api")
    catalog.set_approval("fraud", 1, "Rejected", comment="leaks the label", actor=bob)
    assert (first.previous, first.status, first.changed_by) == (
        "PendingManualApproval",
        "Approved",
        "alice",
    )
    history = catalog.list_approvals("fraud", 1)
    assert [(c.status, c.changed_by, c.comment) for c in history] == [
        ("Approved", "alice", "report reviewed"),
        ("Rejected", "bob", "leaks the label"),
    ]
    assert history[0].changed_at <= history[1].changed_at
    assert history[1].changed_at.tzinfo is not None
    assert catalog.get_model_version("fraud").approval == "Rejected"
    assert [v.approval for v in catalog.list_model_versions()] == ["Rejected"]
    events = catalog.list_events(object_type="model", limit=2)
    assert [(e.action, e.actor, e.details["status"]) for e in events] == [
        ("model.approval", "bob", "Rejected"),
        ("model.approval", "alice", "Approved"),
    ]
    assert catalog.verify_audit_chain().ok


@pytest.mark.parametrize(
    ("status", "comment", "error", "message"),
    [
        ("Approved", "  ", InvalidInput, "needs a comment"),
        ("Aproved", "ok", InvalidInput, "Did you mean 'Approved'"),
        ("PendingManualApproval", "again", Conflict, "is PendingManualApproval already"),
    ],
)
def test_bad_approval_changes_write_nothing(
    catalog: Catalog,  # noqa: F811
    status: str,
    comment: str,
    error: type[Exception],
    message: str,
) -> None:
    _model(catalog)
    before = len(catalog.list_events())
    with pytest.raises(error, match=message):
        catalog.set_approval("fraud", 1, status, comment=comment, actor=ACTOR)
    assert catalog.list_approvals("fraud", 1) == []
    assert len(catalog.list_events()) == before


def test_approving_an_unknown_or_pending_version_is_not_found(catalog: Catalog) -> None:  # noqa: F811
    with pytest.raises(NotFound):
        catalog.set_approval("fraud", 1, "Approved", comment="ok", actor=ACTOR)
    catalog.create_model_version(
        "fraud",
        run_id=None,
        bundle_uri="models/fraud/p",
        problem_type="binary",
        signature={},
        metrics={},
        lineage={},
        actor=ACTOR,
        pending=True,
    )
    with pytest.raises(NotFound, match="is pending"):
        catalog.set_approval("fraud", 1, "Approved", comment="ok", actor=ACTOR)


def test_a_promotion_stores_its_gates_and_moves_the_alias_in_one_write(
    catalog: Catalog,  # noqa: F811
) -> None:
    _model(catalog)
    record = catalog.record_promotion(
        "fraud",
        1,
        "prod",
        outcome="forced",
        gates=GATES,
        reason="hotfix for the outage",
        move_alias=True,
        actor=ACTOR,
    )
    assert (record.ref, record.environment, record.outcome) == ("fraud:1", "prod", "forced")
    assert record.failed == ("champion",)
    assert catalog.resolve_alias("fraud", "prod").version == 1
    [stored] = catalog.list_promotions("fraud", 1)
    assert stored.gates == GATES and stored.reason == "hotfix for the outage"
    override, alias = catalog.list_events(object_type="model", limit=2)
    assert override.action == "model.promote.override"
    assert override.details == {
        "environment": "prod",
        "failed": ["champion"],
        "reason": "hotfix for the outage",
    }
    assert alias.action == "model.alias"


def test_a_refused_promotion_is_recorded_but_moves_nothing(catalog: Catalog) -> None:  # noqa: F811
    _model(catalog)
    catalog.record_promotion(
        "fraud", 1, "prod", outcome="refused", gates=GATES, reason=None, move_alias=False,
        actor=ACTOR,
    )  # fmt: skip
    with pytest.raises(NotFound, match="no alias 'prod'"):
        catalog.resolve_alias("fraud", "prod")
    assert [r.outcome for r in catalog.list_promotions("fraud")] == ["refused"]
    assert catalog.list_events(limit=1)[0].action == "model.promote.refused"


@pytest.mark.parametrize(
    ("outcome", "reason", "move", "message"),
    [
        ("refused", None, True, "cannot move the alias"),
        ("forced", "  ", True, "needs a reason"),
        ("maybe", None, True, "one of promoted, forced, refused"),
    ],
)
def test_inconsistent_promotions_are_refused(
    catalog: Catalog,  # noqa: F811
    outcome: str,
    reason: str | None,
    move: bool,
    message: str,
) -> None:
    _model(catalog)
    with pytest.raises(InvalidInput, match=message):
        catalog.record_promotion(
            "fraud", 1, "prod", outcome=outcome, gates=GATES, reason=reason, move_alias=move,
            actor=ACTOR,
        )  # fmt: skip
    assert catalog.list_promotions("fraud") == []


@pytest.fixture(params=["sqlite", "postgres"])
def other(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Catalog]:
    """A second catalog: an environment's own."""
    if request.param == "sqlite":
        cat = open_catalog(f"sqlite:///{tmp_path / 'prod.db'}")
        yield cat
        cat.close()
        return
    with postgres_schema_url() as url:
        cat = open_catalog(url)
        try:
            yield cat
        finally:
            cat.close()


def test_an_imported_version_keeps_its_number_approval_and_history(
    catalog: Catalog,  # noqa: F811
    other: Catalog,
) -> None:
    for _ in range(3):
        _model(catalog)
    catalog.set_approval("fraud", 3, "Approved", comment="ok", actor=ACTOR)
    catalog.record_promotion(
        "fraud", 3, "staging", outcome="promoted", gates=GATES[:1], reason=None,
        move_alias=True, actor=ACTOR,
    )  # fmt: skip
    source = catalog.get_model_version("fraud", 3)
    imported = other.import_model_version(
        source,
        approvals=catalog.list_approvals("fraud", 3),
        promotions=catalog.list_promotions("fraud", 3),
        actor=Actor("deployer", "cli"),
    )
    assert imported.ref == "fraud:3" and imported.aliases == ()
    got = other.get_model_version("fraud", 3)
    same = ("bundle_uri", "signature", "metrics", "lineage", "approval", "created_by")
    assert {k: getattr(got, k) for k in same} == {k: getattr(source, k) for k in same}
    assert got.created_at == source.created_at
    assert other.list_approvals("fraud", 3) == catalog.list_approvals("fraud", 3)
    [record] = other.list_promotions("fraud", 3)
    assert dataclasses.replace(record, id=0) == dataclasses.replace(
        catalog.list_promotions("fraud", 3)[0], id=0
    )
    event = other.list_events(limit=1)[0]
    assert (event.action, event.actor, event.object_id) == ("model.import", "deployer", "fraud:3")
    assert _model(other).version == 4  # the next version here comes after the imported one
    with pytest.raises(AlreadyExists):
        other.import_model_version(source, approvals=[], promotions=[], actor=ACTOR)
