"""Every API route with every role in every environment, against the role matrix: a server
acting in prod lets a token through only when its role may do the route's action and it is
scoped to prod (or all); anyone else gets 403 naming the roles that may, and no token 401."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shipyard.pipelines import wait_for_background_runs
from shipyard.security import ROLES, allowed
from shipyard.server import OPEN_PATHS, ShipyardApi, create_app
from shipyard.server._routing import route_resolver
from tests.server.conftest import ENVS, Api, open_for_api
from tests.server.test_routes import HAPPY, _fill


@pytest.fixture(scope="module")
def prod_app(project_root: Path) -> Any:
    project = open_for_api(project_root, env="prod")
    app = create_app(project)
    app.guard.limiter.max_failures = 1_000_000  # the walk's 403s must not turn into 429s
    yield app
    assert wait_for_background_runs(timeout=120)
    project.close()


def _cases(app: ShipyardApi) -> dict[str, tuple[str, str, Any]]:
    """One good request per route (promotions and endpoint changes aimed at prod, where this
    server acts)."""
    resolve = route_resolver(app.routes)
    out = {}
    for method, path, body, _, _ in HAPPY:
        found = resolve({"method": method, "path": path.split("?")[0].replace("{run}", "abcdef")})
        assert found is not None
        if path.endswith("/promote"):
            body = {"environment": "prod"}
        path = path.replace("/endpoints/dev", "/endpoints/prod")
        out.setdefault(f"{method} {found[1]}", (method, path, body))
    return out


def test_every_route_with_every_role_follows_the_matrix(
    prod_app: ShipyardApi, tokens: dict[str, str]
) -> None:
    cases = _cases(prod_app)
    admin = Api(prod_app, tokens["admin-prod"])
    walked = 0
    for route in prod_app.routes:
        method, path, body = cases[f"{route.method} {route.path}"]
        path = _fill(path, admin)
        for role in ROLES:
            for env in ENVS:
                response = admin.as_(tokens[f"{role}-{env}"]).call(method, path, json=body)
                may = allowed(role, route.action) and env in ("prod", "all")
                where = (role, env, route.method, route.path, response.text[:200])
                if may:
                    assert response.status_code not in (401, 403), where
                    assert response.status_code < 500, where
                else:
                    assert response.status_code == 403, where
                    message = response.json()["message"]
                    assert ("Roles that may" in message) or ("scoped to dev" in message), where
                walked += 1
        anonymous = admin.as_(None).call(method, path, json=body)
        assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
    assert walked == len(prod_app.routes) * len(ROLES) * len(ENVS) > 500


def test_every_route_declares_a_matrix_action_in_its_openapi_operation(
    prod_app: ShipyardApi,
) -> None:
    doc = prod_app.fastapi.openapi()
    assert doc["openapi"].startswith("3.1")
    for route in prod_app.routes:
        operation = doc["paths"][route.path][route.method.lower()]
        assert operation["x-shipyard-action"] == route.action
        assert operation["x-shipyard-roles"] == [r for r in ROLES if allowed(r, route.action)]
        assert {"401", "403", "422"} <= set(operation["responses"])


def test_open_paths_need_no_token(prod_app: ShipyardApi) -> None:
    anonymous = Api(prod_app)
    for path in OPEN_PATHS:
        assert anonymous.get(path).status_code == 200, path
    # an unknown route is not revealed to a caller without a token
    assert anonymous.get("/api/v1/secret").status_code == 401
