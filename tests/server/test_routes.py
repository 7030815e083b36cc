"""Every route of the REST API, once with good input and once with bad: what a caller sees.

A route without both kinds of case here fails ``test_every_route_has_a_happy_and_a_bad_case``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shipyard.pipelines import wait_for_background_runs
from shipyard.server import ShipyardApi
from shipyard.server._routing import route_resolver
from tests.server.conftest import Api

V1 = "/api/v1"
M1 = f"{V1}/models/m/versions/1"
D1 = f"{V1}/datasets/d/versions/1"
Check = Callable[[Any], bool]


def items(n: int | None = None, **first: Any) -> Check:
    def check(body: Any) -> bool:
        found = body["items"]
        enough = len(found) == n if n is not None else bool(found)
        return enough and all(found[0][k] == v for k, v in first.items())

    return check


def has(**fields: Any) -> Check:
    return lambda body: all(body[k] == v for k, v in fields.items())


def says(text: str) -> Check:
    return lambda body: text in body["message"]


# (method, path, json body, status, check of the JSON answer or None)
HAPPY: list[tuple[str, str, Any, int, Check | None]] = [
    ("GET", f"{V1}/datasets", None, 200, items(1, name="d", version=1)),
    ("GET", f"{V1}/datasets/d", None, 200, has(name="d", num_rows=600)),
    ("GET", f"{V1}/datasets/d/versions", None, 200, items(1, version=1)),
    ("GET", D1, None, 200, has(version=1, num_rows=600)),
    (
        "GET",
        f"{D1}/schema",
        None,
        200,
        lambda b: b["columns"][0] == {"name": "amount", "type": "DOUBLE", "pii": None},
    ),
    ("GET", f"{D1}/sample?rows=3", None, 200, lambda b: len(b["rows"]) == 3 and b["truncated"]),
    ("GET", f"{D1}/reports", None, 200, lambda b: "profile" in [r["kind"] for r in b]),
    ("GET", f"{D1}/reports/profile", None, 200, has(dataset="d@1")),
    ("GET", f"{D1}/reports/profile/html", None, 200, None),
    ("POST", f"{D1}/profile", {}, 200, has(reused=True, kind="profile")),
    ("POST", f"{D1}/check", {"against": "d@1"}, 200, lambda b: b["report"]["passed"]),
    (
        "POST",
        f"{D1}/bias",
        {"label": "y", "positive": 1, "facet": "country"},
        200,
        has(kind="bias:y:country"),
    ),
    (
        "POST",
        f"{V1}/sql",
        {"query": "SELECT count(*) AS n FROM d"},
        200,
        has(rows=[[600]], truncated=False),
    ),
    ("GET", f"{V1}/features/groups", None, 200, items(1, name="usage")),
    ("GET", f"{V1}/features/groups/usage", None, 200, has(kind="group", version=1)),
    ("GET", f"{V1}/features/entities/subscriber/versions", None, 200, items(1, kind="entity")),
    ("GET", f"{V1}/features/groups/usage/versions/1", None, 200, has(name="usage")),
    ("GET", f"{V1}/experiments", None, 200, items(1, name="m", runs=1)),
    (
        "GET",
        f"{V1}/runs?experiment=m&sort=metrics.valid_score",
        None,
        200,
        items(1, experiment="m"),
    ),
    (
        "GET",
        f"{V1}/runs/compare?ids={{run}}&ids={{run}}",
        None,
        200,
        lambda b: len(b["runs"]) == 2 and b["splits"][0]["strategy"],
    ),
    ("GET", f"{V1}/runs/{{run}}", None, 200, lambda b: b["run"]["status"] == "finished"),
    ("GET", f"{V1}/runs/{{run}}/metrics/valid_loss", None, 200, lambda b: isinstance(b, list)),
    ("GET", f"{V1}/models", None, 200, items(1, name="m")),
    ("GET", f"{V1}/models/m", None, 200, has(version=1)),
    ("GET", f"{V1}/models/m/versions?alias=prod", None, 200, items(1, version=1)),
    ("GET", f"{V1}/models/m/aliases/prod", None, 200, has(version=1)),
    ("GET", M1, None, 200, lambda b: "prod" in b["aliases"]),
    (
        "GET",
        f"{M1}/lineage",
        None,
        200,
        lambda b: (
            [n["type"] for n in b["nodes"]]
            == ["dataset", "run", "model", "environment", "endpoint"]
            and {"source": "alias:m@prod", "target": "endpoint:prod/scorer"} in b["edges"]
            and b["nodes"][-1]["details"] == {"env": "prod", "name": "scorer", "role": "variant"}
        ),
    ),
    ("GET", f"{M1}/evaluation", None, 200, has(model="m:1")),
    ("GET", f"{M1}/evaluation/html", None, 200, None),
    ("GET", f"{M1}/baseline", None, 200, has(model="m:1")),
    ("GET", f"{M1}/baseline/html", None, 200, None),
    ("POST", f"{M1}/baseline", None, 200, has(model="m:1")),
    (
        "POST",
        f"{M1}/promote",
        {"environment": "staging"},
        200,
        lambda b: "staging" in b["version"]["aliases"] and b["outcome"] == "promoted",
    ),
    ("GET", f"{M1}/history", None, 200, lambda b: b["approvals"][-1]["status"] == "Approved"),
    ("POST", f"{M1}/reject", {"comment": "not yet"}, 200, has(status="Rejected")),
    ("POST", f"{M1}/approve", {"comment": "looked again"}, 200, has(status="Approved")),
    ("GET", f"{V1}/endpoints?env=prod", None, 200, items(1, name="scorer")),
    ("GET", f"{V1}/endpoints?env=prod&prefix=nope", None, 200, items(0)),
    (
        "GET",
        f"{V1}/endpoints/prod/scorer",
        None,
        200,
        lambda b: b["lanes"][0]["version"] == "m:1" and b["lanes"][0]["share"] == 100,
    ),
    (
        "POST",
        f"{V1}/endpoints/dev",
        {"name": "fresh", "variants": ["m:1"], "capture": 5},
        201,
        has(name="fresh", revision=1, env="dev"),
    ),
    (
        "PATCH",
        f"{V1}/endpoints/dev/fresh",
        {"capture": 20},
        200,
        lambda b: b["revision"] == 2 and b["config"]["capture"] == 20,
    ),
    (
        "POST",
        f"{V1}/endpoints/dev/fresh/rollback",
        None,
        200,
        lambda b: b["action"] == "rollback" and b["config"]["capture"] == 5,
    ),
    ("DELETE", f"{V1}/endpoints/dev/fresh", None, 200, has(name="fresh")),
    (
        "GET",
        f"{V1}/pipelines?limit=1&prefix=fl",
        None,
        200,
        lambda b: (
            b["items"][0]["pipeline"]["name"] == "flow"
            and b["items"][0]["last_run"]["status"] == "failed"
            and b["next_cursor"] is None
        ),
    ),
    ("GET", f"{V1}/pipelines/flow/runs?limit=1", None, 200, items(1, status="failed")),
    (
        "GET",
        f"{V1}/pipeline-runs/{{prun}}",
        None,
        200,
        lambda b: (
            [(s["step"], s["status"]) for s in b["steps"]]
            == [("profile", "finished"), ("stop", "failed")]
            and b["steps"][0]["seconds"] is not None
            and "profiled d@1" in b["steps"][0]["logs"]
        ),
    ),
    (
        "GET",
        f"{V1}/pipeline-runs/{{prun}}/graph",
        None,
        200,
        lambda b: (
            b["edges"] == [{"source": "profile", "target": "stop"}]
            and [(n["step"], n["layer"], n["status"]) for n in b["nodes"]]
            == [("profile", 0, "finished"), ("stop", 1, "failed")]
        ),
    ),
    (
        "POST",
        f"{V1}/pipelines/flow/runs",
        {"params": {"stop": False}},
        202,
        lambda b: b["run"]["status"] == "running" and b["id"] == b["run"]["id"],
    ),
    (
        "POST",
        f"{V1}/pipeline-runs/{{prun}}/resume",
        None,
        202,
        lambda b: b["run"]["trigger"] == "resume" and b["run"]["resumed_from"],
    ),
    ("GET", f"{V1}/monitors", None, 200, lambda b: b["items"][0]["monitor"]["name"] == "watch"),
    ("GET", f"{V1}/monitors/watch", None, 200, has(open_alerts=2)),
    ("GET", f"{V1}/monitors/watch/runs", None, 200, items(1, status="violations")),
    (
        "GET",
        f"{V1}/monitors/watch/series?windows=10",
        None,
        200,
        lambda b: b["monitor"] == "watch" and len(b["windows"]) == 1 and b["drift"] == [],
    ),
    (
        "POST",
        f"{V1}/monitors/watch/run",
        {"since": "2026-01-01T01:00Z", "until": "2026-01-01T02:00Z"},
        200,
        lambda b: b["windows"][0]["run"]["status"] == "empty",
    ),
    ("GET", f"{V1}/alerts?sort=severity&order=asc", None, 200, items(2, severity="error")),
    (
        "POST",
        f"{V1}/alerts/{{alert}}/ack",
        {"comment": "seen"},
        200,
        has(status="acked", acked_by="admin-all"),
    ),
    (
        "GET",
        f"{V1}/audit?action=model.&limit=5",
        None,
        200,
        lambda b: all(e["action"].startswith("model.") for e in b["items"]),
    ),
    ("GET", f"{V1}/audit/verify", None, 200, has(ok=True)),
]

BAD: list[tuple[str, str, Any, int, Check | None]] = [
    ("GET", f"{V1}/datasets?limit=0", None, 422, says("'limit'")),
    ("GET", f"{V1}/datasets/dd", None, 404, says("Did you mean 'd'?")),
    ("GET", f"{V1}/datasets/nope/versions", None, 404, says("No dataset named 'nope'")),
    ("GET", f"{V1}/datasets/d/versions/9", None, 404, says("no version 9")),
    ("GET", f"{V1}/datasets/d/versions/0/schema", None, 422, says("'version'")),
    ("GET", f"{D1}/sample?rows=5000", None, 422, says("'rows'")),
    ("GET", f"{V1}/datasets/x/versions/1/reports", None, 404, says("No dataset named 'x'")),
    ("GET", f"{D1}/reports/profil", None, 404, says("Did you mean 'profile'?")),
    ("GET", f"{D1}/reports/nothing/html", None, 404, says("no 'nothing' report")),
    ("POST", f"{D1}/profile", {"refresh": "maybe"}, 422, says("'refresh'")),
    ("POST", f"{D1}/check", {}, 422, says("Give either")),
    ("POST", f"{D1}/bias", {"label": "y", "facet": "country"}, 422, says("'positive' is required")),
    ("POST", f"{V1}/sql", {"query": "COPY d TO '/tmp/x.csv'"}, 422, says("read-only")),
    ("GET", f"{V1}/features/views", None, 422, says("'kind'")),
    ("GET", f"{V1}/features/groups/usag", None, 404, says("Did you mean 'usage'?")),
    ("GET", f"{V1}/features/entities/nope/versions", None, 404, says("No entity named 'nope'")),
    ("GET", f"{V1}/features/groups/usage/versions/7", None, 404, says("no version 7")),
    ("GET", f"{V1}/experiments?sort=runs", None, 422, says("'sort'")),
    ("GET", f"{V1}/runs?status=done", None, 422, says("'status'")),
    ("GET", f"{V1}/runs/compare?ids=abcdef", None, 422, says("'ids'")),
    ("GET", f"{V1}/runs/abcdef", None, 404, says("No run with id 'abcdef'")),
    ("GET", f"{V1}/runs/{{run}}/metrics/bad%20key", None, 422, says("'key'")),
    ("GET", f"{V1}/models?limit=1001", None, 422, says("'limit'")),
    ("GET", f"{V1}/models/mm", None, 404, says("Did you mean 'm'?")),
    ("GET", f"{V1}/models/m/versions?alias=PROD", None, 422, says("'alias'")),
    ("GET", f"{V1}/models/m/aliases/qa", None, 404, says("Its aliases: prod")),
    ("GET", f"{V1}/models/m/versions/5", None, 404, says("no version 5")),
    ("GET", f"{V1}/models/m/versions/5/lineage", None, 404, says("no version 5")),
    ("GET", f"{V1}/models/nope/versions/1/evaluation", None, 404, says("No model named 'nope'")),
    ("GET", f"{V1}/models/m/versions/5/evaluation/html", None, 404, says("no version 5")),
    ("GET", f"{V1}/models/m/versions/5/baseline", None, 404, says("no version 5")),
    ("GET", f"{V1}/models/m/versions/5/baseline/html", None, 404, says("no version 5")),
    ("POST", f"{V1}/models/m/versions/5/baseline", None, 404, says("no version 5")),
    ("POST", f"{M1}/promote", {"environment": "qa"}, 422, says("'environment'")),
    ("GET", f"{V1}/models/m/versions/9/history", None, 404, None),
    ("POST", f"{M1}/approve", {"comment": ""}, 422, says("'comment'")),
    ("POST", f"{M1}/reject", {}, 422, says("'comment'")),
    ("GET", f"{V1}/endpoints?env=qa", None, 422, says("'env'")),
    ("GET", f"{V1}/endpoints", None, 422, says("'env'")),
    ("GET", f"{V1}/endpoints/prod/scorr", None, 404, says("Did you mean 'scorer'?")),
    ("POST", f"{V1}/endpoints/dev", {"name": "x", "variants": []}, 422, says("'variants'")),
    ("POST", f"{V1}/endpoints/dev", {"name": "x", "variants": ["nope:1"]}, 404, says("nope")),
    ("PATCH", f"{V1}/endpoints/prod/scorer", {"capture": 101}, 422, says("'capture'")),
    ("PATCH", f"{V1}/endpoints/prod/scorer", {}, 422, says("Nothing to change")),
    ("POST", f"{V1}/endpoints/prod/scorer/rollback", None, 409, says("no earlier configuration")),
    ("DELETE", f"{V1}/endpoints/staging/scorer", None, 404, says("scorer")),
    ("DELETE", f"{V1}/endpoints/prod/scorer?", "viewer", 403, says("Roles that may: deployer")),
    ("GET", f"{V1}/pipelines?", "predict", 403, says("Roles that may: viewer")),
    ("GET", f"{V1}/pipelines/flw/runs", None, 404, says("Did you mean 'flow'?")),
    ("GET", f"{V1}/pipelines?sort=version", None, 422, None),
    ("GET", f"{V1}/pipeline-runs/xyz", None, 422, says("'run_id'")),
    ("GET", f"{V1}/pipeline-runs/abcdef12/graph", None, 404, says("'abcdef12'")),
    ("POST", f"{V1}/pipelines/flow/runs", {"params": {"stop": "maybe"}}, 422, says("stop")),
    ("POST", f"{V1}/pipelines/flow/runs", {"params": {"nope": 1}}, 422, says("nope")),
    ("POST", f"{V1}/pipelines/flow/runs?", "viewer", 403, says("Roles that may: deployer")),
    ("POST", f"{V1}/pipeline-runs/{{pdone}}/resume", None, 409, says("nothing to resume")),
    ("GET", f"{V1}/monitors?sort=model", None, 422, says("'sort'")),
    ("GET", f"{V1}/monitors/wach", None, 404, says("Did you mean 'watch'?")),
    ("GET", f"{V1}/monitors/nope/runs", None, 404, says("'nope'")),
    ("GET", f"{V1}/monitors/watch/series?windows=0", None, 422, says("'windows'")),
    ("GET", f"{V1}/monitors/wach/series", None, 404, says("Did you mean 'watch'?")),
    ("POST", f"{V1}/monitors/watch/run", {"since": "2026-01-01T00:00"}, 422, says("'since'")),
    ("GET", f"{V1}/alerts?status=closed", None, 422, says("'status'")),
    ("POST", f"{V1}/alerts/999999/ack", {}, 404, says("999999")),
    ("GET", f"{V1}/audit?since=yesterday", None, 422, says("'since'")),
    ("GET", f"{V1}/audit/verify?", "viewer", 403, says("Roles that may: deployer, admin")),
]


def _fill(path: str, api: Api) -> str:
    if "{run}" in path:
        path = path.replace("{run}", api.get(f"{V1}/runs").json()["items"][0]["id"])
    if "{prun}" in path:
        runs = api.get(f"{V1}/pipelines/flow/runs?status=failed").json()["items"]
        path = path.replace("{prun}", runs[-1]["id"])
    if "{pdone}" in path:
        wait_for_background_runs(timeout=120)
        runs = api.get(f"{V1}/pipelines/flow/runs?status=finished").json()["items"]
        path = path.replace("{pdone}", runs[0]["id"])
    if "{alert}" in path:
        open_ones = api.get(f"{V1}/alerts?status=open").json()["items"]
        path = path.replace("{alert}", str(open_ones[0]["id"]))
    return path


def _run(api: Api, tokens: dict[str, str], case: tuple[Any, ...]) -> None:
    method, path, body, status, check = case
    role = body if body in ("viewer", "predict") else None
    caller = (
        api.as_(tokens[f"{role}-only-all" if role == "predict" else f"{role}-all"]) if role else api
    )
    response = caller.call(method, _fill(path, api), json=None if role else body)
    assert response.status_code == status, response.text
    if response.headers["content-type"].startswith("application/json"):
        answer = response.json()
        if status >= 400:
            assert set(answer) == {"error", "message", "details"}
        assert check is None or check(answer), answer
    else:
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["content-security-policy"] == "sandbox allow-scripts"
        assert b"<html" in response.content[:2000].lower()


@pytest.mark.parametrize("case", HAPPY, ids=[f"{c[0]} {c[1]}" for c in HAPPY])
def test_a_route_answers_good_input(
    api: Api, tokens: dict[str, str], case: tuple[Any, ...]
) -> None:
    _run(api, tokens, case)


@pytest.mark.parametrize("case", BAD, ids=[f"{c[0]} {c[1]}" for c in BAD])
def test_a_route_refuses_bad_input_clearly(
    api: Api, tokens: dict[str, str], case: tuple[Any, ...]
) -> None:
    _run(api, tokens, case)


def test_every_route_has_a_happy_and_a_bad_case(app: ShipyardApi) -> None:
    resolve = route_resolver(app.routes)

    def covered(cases: list[tuple[str, str, Any, int, Check | None]]) -> set[str]:
        out = set()
        for method, path, *_ in cases:
            scope = {"method": method, "path": path.split("?")[0].replace("{run}", "abcdef12")}
            found = resolve(scope)
            assert found is not None, (method, path)
            out.add(f"{method} {found[1]}")
        return out

    every = {f"{r.method} {r.path}" for r in app.routes}
    assert every - covered(HAPPY) == set()
    assert every - covered(BAD) == set()
