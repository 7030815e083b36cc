"""What the REST API does around its routes: tokens, scopes, limits, errors, ETags, audit,
and where Studio mounts."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shipyard.server import ShipyardApi, create_app
from tests.server.conftest import Api, open_for_api

M1 = "/api/v1/models/m/versions/1"


def _events(app: ShipyardApi, **filters: Any) -> list[Any]:
    from shipyard.catalog.paging import PageQuery

    return app.project.catalog.page_events(PageQuery(limit=20, filters=filters)).items


def test_no_bad_or_stale_token_gets_in(app: ShipyardApi, api: Api, tokens: dict[str, str]) -> None:
    catalog = app.project.catalog
    secret = secrets.token_urlsafe(32)
    catalog.create_token(
        "00112233aabbccdd",
        name="old",
        role="admin",
        env="all",
        secret_hash=hashlib.sha256(secret.encode()).hexdigest(),
        expires_at=datetime.now(UTC) - timedelta(minutes=1),
        actor=app.project.actor,
    )
    for token, why in [
        (None, "needs a token"),
        ("nonsense", "malformed"),
        (tokens["admin-all"][:-3] + "AAA", "not valid"),
        (f"shp_00112233aabbccdd_{secret}", "expired"),
    ]:
        response = api.as_(token, "10.9.0.1").get("/api/v1/models")
        assert response.status_code == 401 and why in response.json()["message"], token


def test_a_forbidden_call_names_the_roles_that_may(api: Api, tokens: dict[str, str]) -> None:
    response = api.as_(tokens["viewer-all"]).post(f"{M1}/promote", json={"environment": "dev"})
    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "PermissionDenied"
    assert "role viewer, which may not promote. Roles that may: deployer, admin" in body["message"]


def test_promoting_into_an_environment_needs_a_token_of_that_environment(
    api: Api, tokens: dict[str, str]
) -> None:
    # this server acts in dev; a dev deployer may promote in dev, not into prod
    deployer = api.as_(tokens["deployer-dev"])
    assert deployer.post(f"{M1}/promote", json={"environment": "dev"}).status_code == 200
    refused = deployer.post(f"{M1}/promote", json={"environment": "prod"})
    assert refused.status_code == 403
    assert (
        "scoped to dev; to promote in prod use a token scoped to prod" in refused.json()["message"]
    )
    assert (
        api.as_(tokens["deployer-all"])
        .post(f"{M1}/promote", json={"environment": "prod"})
        .status_code
        == 200
    )


def test_every_change_is_audited_with_who_where_and_the_outcome(
    app: ShipyardApi, api: Api, tokens: dict[str, str]
) -> None:
    caller = api.as_(tokens["deployer-all"], "10.7.0.7")
    assert caller.post(f"{M1}/promote", json={"environment": "staging"}).status_code == 200
    assert caller.post(f"{M1}/promote", json={"environment": "qa"}).status_code == 422
    assert (
        api.as_(tokens["viewer-all"], "10.7.0.8")
        .post(f"{M1}/promote", json={"environment": "staging"})
        .status_code
        == 403
    )
    calls = _events(app, action="api.call", actor="deployer-all")
    assert [(e.details["status"], e.details["outcome"]) for e in calls[:2]] == [
        (422, "InvalidInput"),
        (200, "ok"),
    ]
    assert calls[0].face == "api" and calls[0].address == "10.7.0.7"
    assert calls[0].object_id == "POST /api/v1/models/{name}/versions/{version}/promote"
    (moved, *_) = _events(app, action="model.alias")
    assert (moved.actor, moved.face, moved.address) == ("deployer-all", "api", "10.7.0.7")
    (denied, *_) = _events(app, action="auth.denied")
    assert (denied.actor, denied.address, denied.details["status"]) == (
        "viewer-all",
        "10.7.0.8",
        403,
    )
    # reads are not audited, only refused ones
    api.get("/api/v1/models")
    assert not [e for e in _events(app, face="api") if e.object_id == "GET /api/v1/models"]


def test_a_body_over_the_limit_is_413_whether_declared_or_streamed(api: Api) -> None:
    big = b'{"query": "' + b"x" * (1024 * 1024) + b'"}'
    declared = api.post("/api/v1/sql", content=big, headers={"content-type": "application/json"})
    assert declared.status_code == 413 and declared.json()["error"] == "PayloadTooLarge"

    async def chunks() -> Any:
        for _ in range(20):
            yield b" " * 100_000

    streamed = api.post(
        "/api/v1/sql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000 + b"]" * 100_000, b'{"query": ' * 50_000, b"\xff\xfe", b"null"],
    ids=["deep", "deep-unclosed", "not-utf8", "null"],
)
def test_hostile_bodies_are_refused_without_a_server_error(api: Api, body: bytes) -> None:
    response = api.post("/api/v1/sql", content=body, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    assert set(response.json()) == {"error", "message", "details"}


def test_sql_through_the_api_cannot_read_outside_the_lake(api: Api) -> None:
    for query in (
        "SELECT * FROM read_csv('/etc/passwd')",
        "ATTACH '/tmp/x.db' AS x",
        "INSTALL httpfs",
    ):
        response = api.post("/api/v1/sql", json={"query": query})
        assert response.status_code == 422, query
    limited = api.post("/api/v1/sql", json={"query": "SELECT * FROM d", "limit": 5})
    assert len(limited.json()["rows"]) == 5 and limited.json()["truncated"]


def test_unknown_routes_and_methods(api: Api) -> None:
    missing = api.get("/api/v1/modles")
    assert (
        missing.status_code == 404 and "Did you mean '/api/v1/models'?" in missing.json()["message"]
    )
    wrong = api.call("DELETE", "/api/v1/models")
    assert wrong.status_code == 405 and wrong.json()["error"] == "MethodNotAllowed"


def test_immutable_objects_carry_an_etag_and_answer_304(app: ShipyardApi, api: Api) -> None:
    report = "/api/v1/datasets/d/versions/1/reports/profile/html"
    for path in ("/api/v1/datasets/d/versions/1", f"{M1}/evaluation", report, M1):
        etag = api.get(path).headers["etag"]
        again = api.get(path, headers={"If-None-Match": f'"other", {etag}'})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    # a model version's record shows its aliases: moving one changes its ETag
    tag = api.get(M1).headers["etag"]
    app.project.catalog.set_alias("m", "canary", 1, actor=app.project.actor)
    changed = api.get(M1, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and "canary" in changed.json()["aliases"]


def test_failed_attempts_from_one_address_are_rate_limited(project_root: Path) -> None:
    project = open_for_api(project_root, auth_max_failures=3)
    try:
        stranger = Api(create_app(project), "shp_0123456789abcdef_wrong", "10.66.0.1")
        statuses = [stranger.get("/api/v1/models").status_code for _ in range(5)]
        assert statuses == [401, 401, 401, 429, 429]
    finally:
        project.close()


def test_health_checks_are_open_and_studio_mounts_behind_the_guard(
    project_root: Path, tokens: dict[str, str]
) -> None:
    async def studio(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"studio " + scope["path"].encode()})

    project = open_for_api(project_root)
    try:
        app = create_app(project, studio=studio)
        anonymous = Api(app)
        assert anonymous.get("/healthz").json()["status"] == "ok"
        assert anonymous.get("/ping").status_code == 200
        assert anonymous.get("/").status_code == 401
        viewer = anonymous.as_(tokens["viewer-dev"])
        assert viewer.get("/models/m").content == b"studio /models/m"
        assert viewer.get("/api/v1/models").json()["items"][0]["name"] == "m"
        unknown = viewer.get("/api/v1/nothing")
        assert unknown.status_code == 404 and unknown.json()["error"] == "NotFound"
    finally:
        project.close()
