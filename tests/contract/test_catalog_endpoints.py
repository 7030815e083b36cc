"""The catalog's endpoint contract (revisions, compare and set, history, audit), on every
backend."""

from __future__ import annotations

import threading

import pytest
from tests.contract.test_catalog import catalog  # noqa: F401 - the backend fixture

from shipyard.catalog import Catalog
from shipyard.entities import Actor
from shipyard.errors import AlreadyExists, Conflict, NotFound

ACTOR = Actor("tester", "cli")
ONE = {"variants": [{"name": "fraud:3", "model": "fraud:3", "weight": 100}], "capture": 0.0}
TWO = {
    "variants": [
        {"name": "fraud:3", "model": "fraud:3", "weight": 90},
        {"name": "fraud:4", "model": "fraud:4", "weight": 10},
    ],
    "shadow": {"name": "fraud:5", "model": "fraud:5", "percent": 100.0},
    "capture": 20.0,
}
LIVE = {"phase": "live"}


def test_an_endpoint_keeps_every_revision_and_audits_each(catalog: Catalog) -> None:  # noqa: F811
    first = catalog.create_endpoint("prod", "fraud", config=ONE, state=LIVE, actor=ACTOR)
    assert (first.ref, first.revision, first.action, first.config) == (
        "prod/fraud",
        1,
        "create",
        ONE,
    )
    second = catalog.revise_endpoint(
        "prod", "fraud", config=TWO, state=LIVE, action="update", actor=Actor("ann", "api")
    )
    assert (second.revision, second.updated_by, second.created_by) == (2, "ann", "tester")
    third = catalog.revise_endpoint(
        "prod", "fraud", config=ONE, state=LIVE, action="rollback", restores=1, actor=ACTOR
    )
    assert (third.revision, third.restores) == (3, 1)
    assert catalog.get_endpoint("prod", "fraud") == third
    assert catalog.get_endpoint("prod", "fraud", 2).config == TWO
    history = catalog.endpoint_history("prod", "fraud")
    assert [(e.revision, e.action) for e in history] == [
        (1, "create"),
        (2, "update"),
        (3, "rollback"),
    ]
    events = catalog.list_events(object_type="endpoint")
    assert [e.action for e in events] == ["endpoint.rollback", "endpoint.update", "endpoint.create"]
    assert events[0].object_id == "prod/fraud"
    assert events[0].details["restores"] == 1
    assert events[1].details["variants"] == ["fraud:3=90", "fraud:4=10", "shadow fraud:5"]
    assert catalog.verify_audit_chain().ok


def test_names_are_unique_per_environment_only(catalog: Catalog) -> None:  # noqa: F811
    catalog.create_endpoint("prod", "fraud", config=ONE, state=LIVE, actor=ACTOR)
    catalog.create_endpoint("staging", "fraud", config=TWO, state=LIVE, actor=ACTOR)
    with pytest.raises(AlreadyExists, match="prod has an endpoint named 'fraud'"):
        catalog.create_endpoint("prod", "fraud", config=ONE, state=LIVE, actor=ACTOR)
    assert [e.ref for e in catalog.list_endpoints()] == ["prod/fraud", "staging/fraud"]
    assert [e.config for e in catalog.list_endpoints("staging")] == [TWO]
    assert catalog.list_endpoints("dev") == []


def test_a_stale_revision_is_refused_and_writes_nothing(catalog: Catalog) -> None:  # noqa: F811
    catalog.create_endpoint("prod", "fraud", config=ONE, state=LIVE, actor=ACTOR)
    catalog.revise_endpoint("prod", "fraud", config=TWO, state=LIVE, action="update", actor=ACTOR)
    with pytest.raises(Conflict, match="at revision 2 now, not 1"):
        catalog.revise_endpoint(
            "prod",
            "fraud",
            config=ONE,
            state={"phase": "baking"},
            action="guardrail",
            expected_revision=1,
            actor=ACTOR,
        )
    assert catalog.get_endpoint("prod", "fraud").revision == 2
    assert len(catalog.list_events(object_type="endpoint")) == 2


def test_concurrent_compare_and_set_lets_exactly_one_win(catalog: Catalog) -> None:  # noqa: F811
    catalog.create_endpoint("prod", "fraud", config=ONE, state=LIVE, actor=ACTOR)
    outcomes: list[str] = []

    def advance() -> None:
        try:
            catalog.revise_endpoint(
                "prod",
                "fraud",
                config=ONE,
                state={"phase": "live", "step": 1},
                action="guardrail",
                expected_revision=1,
                actor=ACTOR,
            )
            outcomes.append("won")
        except Conflict:
            outcomes.append("lost")

    threads = [threading.Thread(target=advance) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["lost", "lost", "lost", "won"]
    assert catalog.get_endpoint("prod", "fraud").revision == 2


def test_unknown_endpoints_and_revisions_are_not_found(catalog: Catalog) -> None:  # noqa: F811
    catalog.create_endpoint("prod", "fraud", config=ONE, state=LIVE, actor=ACTOR)
    with pytest.raises(NotFound, match="Did you mean 'fraud'"):
        catalog.get_endpoint("prod", "frud")
    with pytest.raises(NotFound, match="It exists in prod"):
        catalog.get_endpoint("dev", "fraud")
    with pytest.raises(NotFound, match="no revision 7"):
        catalog.get_endpoint("prod", "fraud", 7)
    with pytest.raises(NotFound):
        catalog.endpoint_history("prod", "nope")
    with pytest.raises(NotFound):
        catalog.revise_endpoint(
            "prod", "nope", config=ONE, state=LIVE, action="update", actor=ACTOR
        )
    with pytest.raises(NotFound):
        catalog.delete_endpoint("staging", "fraud", actor=ACTOR)


def test_a_deleted_endpoint_frees_its_name(catalog: Catalog) -> None:  # noqa: F811
    catalog.create_endpoint("prod", "fraud", config=ONE, state=LIVE, actor=ACTOR)
    catalog.revise_endpoint("prod", "fraud", config=TWO, state=LIVE, action="update", actor=ACTOR)
    gone = catalog.delete_endpoint("prod", "fraud", actor=ACTOR)
    assert gone.revision == 2
    assert catalog.list_endpoints() == []
    with pytest.raises(NotFound):
        catalog.get_endpoint("prod", "fraud")
    again = catalog.create_endpoint("prod", "fraud", config=TWO, state=LIVE, actor=ACTOR)
    assert again.revision == 1
    assert len(catalog.endpoint_history("prod", "fraud")) == 1
    assert catalog.list_events(object_type="endpoint")[1].action == "endpoint.delete"
