"""`--auth required` on the inference server: every route, every role, against the matrix."""

from __future__ import annotations

import itertools
from typing import Any

import anyio
import httpx
import pytest

from shipyard.project import Project
from shipyard.security import ROLES, allowed, create_token, revoke_token
from shipyard.serve import ShipyardServeApp
from shipyard.serve._auth import OPEN_PATHS, guard

ROW = {"amount": 120.5, "calls": 3, "country": "fr", "roaming": True}
BODIES = {"/v1/predict": {"rows": [ROW]}, "/invocations": [ROW]}
INFER = {  # the Open Inference Protocol's body, for every .../infer route
    "inputs": [
        {"name": k, "datatype": t, "shape": [1], "data": [ROW[k]]}
        for k, t in (
            ("amount", "FP64"),
            ("calls", "INT64"),
            ("country", "BYTES"),
            ("roaming", "BOOL"),
        )
    ]
}


def call(app: Any, method: str, path: str, token: str | None = None, address: str = "10.0.0.1"):
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(address, 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://serve") as c:
            return await c.request(
                method,
                path,
                headers=headers,
                json=INFER if path.endswith("/infer") else BODIES.get(path),
            )

    return anyio.run(go)


@pytest.fixture(scope="module")
def tokens(served_project: Project) -> dict[tuple[str, str], str]:
    return {
        (role, env): create_token(
            served_project, f"{role}-{env}", role=role, env=env, expires="1h"
        ).token
        for role, env in itertools.product(ROLES, ("dev", "prod", "all"))
    }


@pytest.fixture(scope="module")
def guarded(app: ShipyardServeApp, served_project: Project) -> Any:
    guarded = guard(app, served_project, "prod")
    guarded.limiter.max_failures = 10_000  # the walk's 403s must not turn into 429s
    return guarded


def _routes(app: ShipyardServeApp) -> list[tuple[str, str]]:
    return [
        (path, method)
        for path, methods in app._routes.items()
        for method in methods
        if method != "HEAD"
    ]


def test_every_route_with_every_role_follows_the_matrix(
    app: ShipyardServeApp, guarded: Any, tokens: dict[tuple[str, str], str]
) -> None:
    routes = _routes(app)
    assert {"/invocations", "/v1/predict", "/ping", "/v2/models/m/infer"} <= {p for p, _ in routes}
    assert guarded._pattern_action("/v2/models/m@prod/versions/1/infer") == "predict"
    for (role, env), token in tokens.items():
        for path, method in routes:
            status = call(guarded, method, path, token).status_code
            if path in OPEN_PATHS:
                assert status == 200, (role, env, path)
                continue
            action = guarded.routes.get(path) or guarded._pattern_action(path)
            may = allowed(role, action) and env in ("prod", "all")
            assert status == (200 if may else 403), (role, env, path, status)


def test_open_paths_need_no_token_and_others_answer_401(guarded: Any) -> None:
    assert call(guarded, "GET", "/ping").status_code == 200
    assert call(guarded, "GET", "/openapi.json").status_code == 200
    response = call(guarded, "POST", "/invocations", address="10.2.0.1")
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"] == "Unauthenticated"
    # an unknown route is not revealed to a caller without a token
    assert call(guarded, "GET", "/admin", address="10.2.0.2").status_code == 401


@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        "shp_0123456789abcdef_wrong",
        "Basic abc",
    ],
)
def test_bad_tokens_answer_401(guarded: Any, token: str) -> None:
    assert call(guarded, "POST", "/v1/predict", token, address="10.3.0.1").status_code == 401


def test_a_right_id_with_a_wrong_secret_is_refused(
    guarded: Any, tokens: dict[tuple[str, str], str]
) -> None:
    good = tokens[("admin", "prod")]
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    assert call(guarded, "POST", "/v1/predict", forged, address="10.4.0.1").status_code == 401


def test_a_revoked_or_expired_token_is_refused(
    app: ShipyardServeApp, served_project: Project
) -> None:
    fresh = guard(app, served_project, "prod")
    fresh.authorizer.cache_seconds = 0
    made = create_token(served_project, "short", role="predict-only", env="prod", expires="1m")
    assert call(fresh, "POST", "/v1/predict", made.token, address="10.5.0.1").status_code == 200
    revoke_token(served_project, "short")
    response = call(fresh, "POST", "/v1/predict", made.token, address="10.5.0.1")
    assert response.status_code == 401 and "revoked" in response.json()["message"]


def test_failures_are_audited_with_the_address_and_rate_limited(
    app: ShipyardServeApp, served_project: Project
) -> None:
    fresh = guard(app, served_project, "prod")
    limit = served_project.settings.auth_max_failures
    statuses = [
        call(fresh, "POST", "/v1/predict", "shp_bad", address="10.9.9.9").status_code
        for _ in range(limit + 2)
    ]
    assert statuses == [401] * limit + [429, 429]
    assert call(fresh, "GET", "/ping", address="10.9.9.9").status_code == 200
    assert call(fresh, "POST", "/v1/predict", "shp_bad", address="10.9.9.8").status_code == 401
    denials = [
        e
        for e in served_project.catalog.list_events(200)
        if e.action == "auth.denied" and e.address == "10.9.9.9"
    ]
    assert len(denials) == limit
    assert denials[0].face == "serve" and denials[0].details["status"] == 401
    assert "shp_bad" not in str([e.details for e in denials])
    assert served_project.catalog.verify_audit_chain().ok
