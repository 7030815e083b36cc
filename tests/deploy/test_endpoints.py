"""Endpoints in the deploy room: validation, revisions, rollback, alias following, guardrails
driven by an injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests._endpoints import endpoint_project

from shipyard.deploy import (
    CanaryStats,
    ScoreBins,
    advance_rollout,
    create_endpoint,
    delete_endpoint,
    list_endpoints,
    plan_traffic,
    rollback_endpoint,
    show_endpoint,
    update_endpoint,
)
from shipyard.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from shipyard.project import Project
from shipyard.registry import promote

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    project = endpoint_project(tmp_path_factory.mktemp("endpoints"))
    yield project
    project.close()


@pytest.fixture
def project(trained: Project) -> Iterator[Project]:
    """The trained project with no endpoint (each test starts clean)."""
    yield trained
    for e in list_endpoints(trained):
        delete_endpoint(trained, e.name, env=e.env)
    promote(trained, "m:1", "prod")


def shares(project: Project, name: str = "fraud", env: str = "prod") -> list[tuple[Any, ...]]:
    _, plan = plan_traffic(project, name, env=env)
    return [(lane.arm, lane.version, round(lane.share, 6)) for lane in plan.lanes]


def test_an_endpoint_splits_by_weight_and_follows_an_alias(project: Project) -> None:
    created = create_endpoint(
        project,
        "fraud",
        env="prod",
        variants=["m@prod=90", "m:2=10"],
        shadow="m:3",
        capture="20%",
        sticky_key="subscriber_id",
    )
    assert created.revision == 1
    assert created.config["capture"] == 20.0
    assert shares(project) == [("live", "m:1", 90.0), ("live", "m:2", 10.0)]
    _, plan = plan_traffic(project, "fraud", env="prod")
    assert plan.shadow is not None and plan.shadow.version == "m:3"
    assert (plan.sticky_key, plan.capture) == ("subscriber_id", 20.0)

    promote(project, "m:3", "prod")  # the alias moves: so does what the endpoint serves
    assert shares(project)[0] == ("live", "m:3", 90.0)
    status = show_endpoint(project, "fraud", env="prod")
    assert [(lane.model, lane.version) for lane in status.lanes] == [
        ("m@prod", "m:3"),
        ("m:2", "m:2"),
    ]


def test_update_keeps_what_is_not_given_and_rollback_restores_the_previous(
    project: Project,
) -> None:
    create_endpoint(project, "fraud", env="prod", variants=["m:1"], capture=5)
    second = update_endpoint(project, "fraud", env="prod", variants=["m:1=50", "m:2=50"])
    assert second.config["capture"] == 5.0 and second.revision == 2
    third = update_endpoint(project, "fraud", env="prod", shadow="m:3=20", capture="10%")
    assert third.config["variants"] == second.config["variants"]
    assert third.config["shadow"] == {"name": "m:3", "model": "m:3", "percent": 20.0}

    back = rollback_endpoint(project, "fraud", env="prod")
    assert (back.revision, back.action, back.restores) == (4, "rollback", 2)
    assert back.config == second.config
    again = rollback_endpoint(project, "fraud", env="prod")  # an undo: one further back
    assert (again.restores, again.config["variants"]) == (
        1,
        [{"name": "m:1", "model": "m:1", "weight": 100}],
    )
    with pytest.raises(Conflict, match="no earlier configuration"):
        rollback_endpoint(project, "fraud", env="prod")
    history = show_endpoint(project, "fraud", env="prod").history
    assert [e.action for e in history] == ["create", "update", "update", "rollback", "rollback"]
    actions = [e.action for e in project.catalog.list_events(object_type="endpoint")[:5]]
    assert actions == [
        "endpoint.rollback",
        "endpoint.rollback",
        "endpoint.update",
        "endpoint.update",
        "endpoint.create",
    ]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"variants": ["nope:1"]},
            NotFound,
            "The variant nope:1 does not resolve: No model named 'nope'",
        ),
        ({"variants": ["m:9"]}, NotFound, "Model 'm' has no version 9"),
        ({"variants": ["m@staging"]}, NotFound, "has no alias 'staging'"),
        ({"variants": ["m"]}, InvalidInput, "names no version"),
        ({"variants": ["m:1=90", "m:2=20"]}, InvalidInput, "sum to 100. Got 90 \\+ 20 = 110"),
        ({"variants": ["m:1=100", "m:2=0"]}, InvalidInput, "whole number from 1 to 100. Got '0'"),
        ({"variants": ["m:1=50.5", "m:2=49.5"]}, InvalidInput, "whole number from 1 to 100"),
        ({"variants": ["m:1", "m:2"]}, InvalidInput, "has no weight"),
        ({"variants": ["m:1=50", "m:1=50"]}, InvalidInput, "given twice"),
        ({"variants": ["m:1=50", "m@prod=50"]}, InvalidInput, "both serve m:1"),
        ({"variants": []}, InvalidInput, "at least one variant"),
        ({"variants": ["m:1"], "shadow": "m:1"}, InvalidInput, "shadow m:1 is also the live"),
        ({"variants": ["m@prod"], "shadow": "m:1"}, InvalidInput, "also the live variant m@prod"),
        ({"variants": ["m:1=50", "other:1=50"]}, InvalidInput, "lacks calls"),
        ({"variants": ["m:1"], "shadow": "amount:1"}, InvalidInput, "regression model"),
        (
            {"variants": ["m:1"], "env": "production"},
            InvalidInput,
            "Got 'production' instead",
        ),
        (
            {"variants": ["m:1"], "capture": "120%"},
            InvalidInput,
            "from 0 to 100, like 20 or 20%. Got '120%'",
        ),
        ({"variants": ["m:1"], "sticky_key": "a b"}, InvalidInput, "not a field name"),
        (
            {"variants": ["m:1"], "rollback_on": "errors=1"},
            InvalidInput,
            "Unknown rollback limit 'errors'",
        ),
        ({"variants": ["m:1"], "rollback_on": "error_rate=2"}, InvalidInput, "at most 1. Got '2'"),
        ({"variants": ["m:1"], "name": "9lives"}, InvalidInput, "starting with a letter"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(
    project: Project, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    args = {"env": "prod", "name": "fraud", **kwargs}
    with pytest.raises(error, match=message):
        create_endpoint(project, args.pop("name"), **args)
    assert list_endpoints(project) == []


def test_duplicates_unknown_endpoints_and_empty_changes_are_refused(project: Project) -> None:
    create_endpoint(project, "fraud", env="prod", variants=["m:1"])
    with pytest.raises(AlreadyExists, match="prod has an endpoint named 'fraud'"):
        create_endpoint(project, "fraud", env="prod", variants=["m:2"])
    create_endpoint(project, "fraud", env="staging", variants=["m:2"])  # another environment
    with pytest.raises(NotFound, match=r"No endpoint named 'frud' in prod\. Did you mean 'fraud'"):
        update_endpoint(project, "frud", env="prod", variants=["m:2"])
    with pytest.raises(InvalidInput, match="Nothing to change"):
        update_endpoint(project, "fraud", env="prod")
    with pytest.raises(InvalidInput, match="has that configuration already"):
        update_endpoint(project, "fraud", env="prod", variants=["m:1=100"])
    with pytest.raises(InvalidInput, match="keeps the variants"):
        update_endpoint(project, "fraud", env="prod", capture=1, canary="10%")
    with pytest.raises(InvalidInput, match="Choose one guardrail"):
        update_endpoint(
            project, "fraud", env="prod", variants=["m:2"], canary="10%", linear="10%/1m"
        )
    with pytest.raises(InvalidInput, match="give --canary SHARE"):
        update_endpoint(project, "fraud", env="prod", variants=["m:2"], bake="5m")
    with pytest.raises(InvalidInput, match="like 90s, 5m or 1h"):
        update_endpoint(project, "fraud", env="prod", variants=["m:2"], canary=10, bake="soon")
    assert show_endpoint(project, "fraud", env="prod").endpoint.revision == 1
    assert [e.ref for e in list_endpoints(project)] == ["staging/fraud", "prod/fraud"]
    assert [e.ref for e in list_endpoints(project, env="prod")] == ["prod/fraud"]


def bake(project: Project, stats: CanaryStats, at: datetime) -> str | None:
    endpoint = show_endpoint(project, "fraud", env="prod").endpoint
    stepped = advance_rollout(project, endpoint, stats, at)
    return None if stepped is None else stepped.action


def test_a_canary_bakes_then_takes_all_the_traffic(project: Project) -> None:
    create_endpoint(project, "fraud", env="prod", variants=["m:1"], rollback_on="error_rate=0.05")
    update_endpoint(project, "fraud", env="prod", variants=["m:2"], canary="10%", bake="5m")
    assert shares(project) == [("canary", "m:2", 10.0), ("baseline", "m:1", 90.0)]
    rollout_at = datetime.fromisoformat(
        show_endpoint(project, "fraud", env="prod").endpoint.state["step_at"]
    )
    healthy = CanaryStats(requests=500, errors=10, p99_ms=4.0, psi=0.01)  # 2 % errors < 5 %
    assert bake(project, healthy, rollout_at + timedelta(minutes=4)) is None
    assert bake(project, healthy, rollout_at + timedelta(minutes=5)) == "guardrail"
    assert shares(project) == [("live", "m:2", 100.0)]
    done = show_endpoint(project, "fraud", env="prod").endpoint
    assert done.state["completed"]["observed"]["requests"] == 500
    assert project.catalog.list_events(object_type="endpoint")[0].action == "endpoint.guardrail"


def test_a_linear_rollout_grows_step_by_step(project: Project) -> None:
    create_endpoint(project, "fraud", env="prod", variants=["m:1=50", "m:2=50"])
    update_endpoint(project, "fraud", env="prod", variants=["m:3"], linear="40%/1m")
    start = datetime.fromisoformat(
        show_endpoint(project, "fraud", env="prod").endpoint.state["step_at"]
    )
    assert shares(project) == [
        ("canary", "m:3", 40.0),
        ("baseline", "m:1", 30.0),
        ("baseline", "m:2", 30.0),
    ]
    quiet = CanaryStats()
    assert bake(project, quiet, start + timedelta(seconds=59)) is None
    assert bake(project, quiet, start + timedelta(minutes=1)) == "guardrail"
    assert shares(project)[0] == ("canary", "m:3", 80.0)
    assert bake(project, quiet, start + timedelta(minutes=1, seconds=30)) is None  # a new interval
    assert bake(project, quiet, start + timedelta(minutes=2)) == "guardrail"
    assert shares(project) == [("live", "m:3", 100.0)]


@pytest.mark.parametrize(
    ("stats", "reason"),
    [
        (CanaryStats(requests=200, errors=20, p99_ms=3.0), "error rate 0.1 passed the limit 0.05"),
        (
            CanaryStats(requests=200, errors=0, p99_ms=80.0),
            "p99 latency 80.0 ms passed the limit 50",
        ),
        (
            CanaryStats(requests=200, errors=0, p99_ms=3.0, psi=0.9),
            "PSI 0.900 against its monitoring",
        ),
    ],
)
def test_a_canary_crossing_a_limit_is_rolled_back(
    project: Project, stats: CanaryStats, reason: str
) -> None:
    create_endpoint(project, "fraud", env="prod", variants=["m:1"], shadow="m:3")
    update_endpoint(project, "fraud", env="prod", variants=["m:2"], capture=50)
    update_endpoint(
        project,
        "fraud",
        env="prod",
        variants=["m:1=50", "m:3=50"],
        shadow=None,
        canary="25%",
        rollback_on="error_rate=0.05,p99_ms=50,psi=0.2,min_requests=150",
    )
    few = CanaryStats(requests=149, errors=149, p99_ms=999.0, psi=9.0)  # too few to judge
    assert bake(project, few, T0) is None
    assert bake(project, stats, T0) == "auto-rollback"
    endpoint = show_endpoint(project, "fraud", env="prod").endpoint
    assert (endpoint.action, endpoint.restores) == ("auto-rollback", 2)
    assert endpoint.config["variants"] == [{"name": "m:2", "model": "m:2", "weight": 100}]
    assert endpoint.config["capture"] == 50.0 and endpoint.config["shadow"]["model"] == "m:3"
    assert reason in endpoint.state["rolled_back"]["reason"]
    event = project.catalog.list_events(object_type="endpoint")[0]
    assert event.action == "endpoint.auto-rollback" and reason in event.details["reason"]
    # a user's rollback now goes back before the configuration that was restored
    assert rollback_endpoint(project, "fraud", env="prod").restores == 1


def test_a_step_never_overwrites_a_change_made_meanwhile(project: Project) -> None:
    create_endpoint(project, "fraud", env="prod", variants=["m:1"])
    update_endpoint(project, "fraud", env="prod", variants=["m:2"], canary="10%", bake="1m")
    seen = show_endpoint(project, "fraud", env="prod").endpoint
    update_endpoint(project, "fraud", env="prod", variants=["m:3"])  # a user, meanwhile
    assert advance_rollout(project, seen, CanaryStats(), T0 + timedelta(days=1)) is None
    assert shares(project) == [("live", "m:3", 100.0)]


def test_score_bins_count_a_batch_like_single_rows(rng: Any) -> None:
    edges = [i / 10 for i in range(11)]
    one, many = ScoreBins(edges, [1] * 10), ScoreBins(edges, [1] * 10)
    scores = rng.random(200)
    for s in scores:
        one.add(scores[[0]] * 0 + s)
    many.add(scores)
    assert one.counts.tolist() == many.counts.tolist() and many.counts.sum() == 200
    assert many.psi() < 0.1
    skewed = ScoreBins(edges, [1] * 10)
    skewed.add(rng.random(200) * 0.1)
    assert skewed.psi() > 1
    assert ScoreBins(edges, [1] * 10).psi() is None


def test_endpoints_live_in_their_environment(project: Project, tmp_path: Path) -> None:
    create_endpoint(project, "fraud", env="dev", variants=["m:2"])
    with pytest.raises(NotFound, match="It exists in dev"):
        show_endpoint(project, "fraud", env="prod")
    with pytest.raises(InvalidInput, match="Got 'qa' instead"):
        list_endpoints(project, env="qa")
