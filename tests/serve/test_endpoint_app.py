"""The endpoint server in process: raw ASGI calls, no network, an injected clock."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests._endpoints import ROW, endpoint_project

from shipyard.deploy import create_endpoint, delete_endpoint, list_endpoints, update_endpoint
from shipyard.errors import NotFound
from shipyard.project import Project
from shipyard.registry import load_model, promote
from shipyard.serve import EndpointApp

Response = tuple[int, dict[bytes, bytes], bytes]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    project = endpoint_project(tmp_path_factory.mktemp("endpoint-serve"))
    yield project
    project.close()


@pytest.fixture
def project(trained: Project) -> Iterator[Project]:
    yield trained
    for e in list_endpoints(trained):
        delete_endpoint(trained, e.name, env=e.env)
    promote(trained, "m:1", "prod")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def serve(project: Project) -> Iterator[Any]:
    apps: list[EndpointApp] = []

    def make(name: str = "fraud", env: str = "prod", **kwargs: Any) -> EndpointApp:
        app = EndpointApp(project, name, env=env, **kwargs)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


async def call(app: Any, path: str, body: bytes, request_id: str | None = None) -> Response:
    headers = [(b"content-type", b"application/json")]
    if request_id is not None:
        headers.append((b"x-request-id", request_id.encode()))
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "headers": headers,
        "query_string": b"",
    }
    delivered = False
    out: dict[str, Any] = {}

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            await asyncio.sleep(3600)
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"], out["headers"] = message["status"], dict(message["headers"])
        else:
            out["body"] = message["body"]

    await app(scope, receive, send)
    assert int(out["headers"][b"content-length"]) == len(out["body"])
    return out["status"], out["headers"], out["body"]


def many(app: Any, bodies: list[bytes], ids: list[str] | None = None) -> list[Response]:
    async def run() -> list[Response]:
        return [
            await call(app, "/v1/predict", b, None if ids is None else ids[i])
            for i, b in enumerate(bodies)
        ]

    return asyncio.run(run())


def predict(row: dict[str, Any] = ROW, **extra: Any) -> bytes:
    return orjson.dumps({"rows": [{**row, **extra}]})


def test_weights_are_honoured_over_10k_requests(project: Project, serve: Any) -> None:
    create_endpoint(project, "fraud", env="prod", variants=["m:1=70", "m:2=20", "m:3=10"])
    app = serve()
    answers = many(app, [predict()] * 10_000)
    assert {status for status, _, _ in answers} == {200}
    counts = Counter(headers[b"x-shipyard-variant"] for _, headers, _ in answers)
    # binomial sd at 10k: 46, 40, 30 requests; 5 sd apart is never reached by chance
    assert abs(counts[b"m:1"] - 7000) < 230
    assert abs(counts[b"m:2"] - 2000) < 200
    assert abs(counts[b"m:3"] - 1000) < 150


def test_the_answer_says_which_variant_answered(project: Project, serve: Any) -> None:
    create_endpoint(project, "fraud", env="prod", variants=["m@prod=50", "m:2=50"])
    app = serve()
    expected = {
        ref: load_model(project, ref).model.predict_records([ROW]).scores[0]
        for ref in ("m:1", "m:2")
    }
    for status, headers, body in many(app, [predict()] * 50):
        doc = orjson.loads(body)
        variant = headers[b"x-shipyard-variant"].decode()
        assert status == 200 and doc["variant"] == variant
        served = headers[b"x-shipyard-model"].decode()
        assert served == {"m@prod": "m:1", "m:2": "m:2"}[variant] == doc["model"]
        assert doc["predictions"][0]["score"] == pytest.approx(expected[served])
    status, headers, body = many(app, [b'{"rows": [{"amount": "x"}]}'])[0]
    assert status == 422 and headers[b"x-shipyard-variant"] in (b"m@prod", b"m:2")
    assert set(orjson.loads(body)) == {"error", "message", "details"}  # errors keep their shape


def test_a_sticky_key_keeps_a_caller_on_one_variant(project: Project, serve: Any) -> None:
    create_endpoint(
        project, "fraud", env="prod", variants=["m:1=50", "m:2=50"], sticky_key="subscriber_id"
    )
    app = serve()
    bodies = [predict(subscriber_id=f"sub-{i % 200}") for i in range(2000)]
    answers = many(app, bodies)
    by_caller: dict[str, set[bytes]] = {}
    for i, (_, headers, _) in enumerate(answers):
        by_caller.setdefault(f"sub-{i % 200}", set()).add(headers[b"x-shipyard-variant"])
    assert all(len(v) == 1 for v in by_caller.values())
    on_first = sum(v == {b"m:1"} for v in by_caller.values())
    assert 60 < on_first < 140  # 200 callers split about evenly (sd 7)
    # the same callers land in the same place in another process's routing
    again = many(serve(), bodies[:200])
    assert [h[b"x-shipyard-variant"] for _, h, _ in again] == [
        h[b"x-shipyard-variant"] for _, h, _ in answers[:200]
    ]


def read_captures(project: Project, model: str, version: int, prefix: str) -> dict[str, list]:
    """The captured rows of ``model:version`` whose request id starts with ``prefix``."""
    folder = project.dir / "artifacts" / "captures" / model / f"v{version}"
    tables = [pq.read_table(f) for f in sorted(folder.rglob("*.parquet"))]
    if not tables:
        return {"request_id": []}
    rows = pa.concat_tables(tables).sort_by("request_id").to_pylist()
    kept = [r for r in rows if r["request_id"].startswith(prefix)]
    return {k: [r[k] for r in kept] for k in (kept[0] if kept else {"request_id": 0})}


def test_a_shadow_never_changes_a_response_and_is_captured(project: Project, serve: Any) -> None:
    create_endpoint(project, "fraud", env="prod", variants=["m:1"])
    rows = [dict(ROW, amount=float(a)) for a in range(1, 301)]
    bodies = [predict(r) for r in rows]
    ids = [f"shadow-{i:03d}" for i in range(len(rows))]
    plain = many(serve(), bodies, ids)

    update_endpoint(project, "fraud", env="prod", shadow="m:2")
    app = serve()
    shadowed = many(app, bodies, ids)
    assert shadowed == plain  # status, every header and every byte of every body
    app.shadow_queue.join()
    assert (app.shadow_queue.scored, app.shadow_queue.dropped) == (300, 0)
    app.close()  # flushes the shadow's captures
    captured = read_captures(project, "m", 2, "shadow-")
    assert captured["request_id"] == ids
    assert set(captured["variant"]) == {"m:2"}
    scores = load_model(project, "m:2").model.predict_records(rows).scores
    expected = dict(zip(ids, scores.tolist(), strict=True))
    assert captured["score"] == pytest.approx([expected[i] for i in captured["request_id"]])
    assert read_captures(project, "m", 1, "shadow-")["request_id"] == []  # capture is off


def test_a_full_shadow_queue_drops_copies_not_requests(project: Project, serve: Any) -> None:
    create_endpoint(project, "fraud", env="prod", variants=["m:1"], shadow="m:2")
    app = serve()
    app.shadow_queue.close()  # nobody takes copies now: each is dropped
    answers = many(app, [predict()] * 20)
    assert {status for status, _, _ in answers} == {200}
    assert app.shadow_queue.dropped == 20
    assert b'shipyard_endpoint_shadow_copies_total{outcome="dropped"} 20.0' in metrics(app)


def metrics(app: EndpointApp) -> bytes:
    assert app.metrics is not None
    return app.metrics.exposition()


def test_an_update_is_served_after_a_refresh_and_rollback_after_the_next(
    project: Project, serve: Any
) -> None:
    create_endpoint(project, "fraud", env="prod", variants=["m:1"], capture=100)
    app = serve()
    first = app.routing.lanes[0][1]
    update_endpoint(project, "fraud", env="prod", variants=["m:1=50", "m:2=50"])
    many(app, [predict()] * 5)
    assert app.refresh() is True
    assert [lane.version for lane, _ in app.routing.lanes] == ["m:1", "m:2"]
    assert app.routing.lanes[0][1] is first  # the loaded, warmed scorer is reused
    assert app.refresh() is False  # nothing changed since

    from shipyard.deploy import rollback_endpoint

    rollback_endpoint(project, "fraud", env="prod")
    assert app.refresh() is True
    assert [lane.version for lane, _ in app.routing.lanes] == ["m:1"]
    promote(project, "m:3", "prod")  # an alias the endpoint does not follow: nothing moves
    assert app.refresh() is False
    answers = many(app, [predict()] * 5)
    assert {h[b"x-shipyard-variant"] for _, h, _ in answers} == {b"m:1"}
    assert b"shipyard_endpoint_revision 3.0" in metrics(app)


def test_a_promotion_moves_what_an_alias_variant_serves(project: Project, serve: Any) -> None:
    create_endpoint(project, "fraud", env="prod", variants=["m@prod"])
    app = serve()
    promote(project, "m:2", "prod")
    assert app.refresh() is True
    _, headers, _ = many(app, [predict()])[0]
    assert (headers[b"x-shipyard-variant"], headers[b"x-shipyard-model"]) == (b"m@prod", b"m:2")


def test_a_canary_bakes_and_takes_over_on_the_injected_clock(project: Project, serve: Any) -> None:
    create_endpoint(project, "fraud", env="prod", variants=["m:1"])
    clock = Clock()
    app = serve(clock=clock)
    update_endpoint(project, "fraud", env="prod", variants=["m:2"], canary="30%", bake="10m")
    clock.now = datetime.now(UTC)
    app.refresh()
    assert [(lane.arm, lane.share) for lane, _ in app.routing.lanes] == [
        ("canary", 30),
        ("baseline", 70),
    ]
    answers = many(app, [predict()] * 300)
    assert {status for status, _, _ in answers} == {200}
    canary = app.routing.stats
    assert canary is not None and 40 < canary.requests < 160
    clock.now += timedelta(minutes=9)
    app.refresh()
    assert app.routing.plan.rollout is not None  # still baking
    clock.now += timedelta(minutes=1)
    app.refresh()
    assert [(lane.arm, lane.version, lane.share) for lane, _ in app.routing.lanes] == [
        ("live", "m:2", 100)
    ]
    event = project.catalog.list_events(object_type="endpoint")[0]
    assert (
        event.action == "endpoint.guardrail"
        and event.details["observed"]["requests"] == canary.requests
    )


def test_planted_canary_errors_roll_it_back(project: Project, serve: Any) -> None:
    create_endpoint(project, "fraud", env="prod", variants=["m:1"])
    clock = Clock()
    app = serve(clock=clock)
    update_endpoint(
        project,
        "fraud",
        env="prod",
        variants=["m:2"],
        linear="50%/1m",
        rollback_on="error_rate=0.1,min_requests=20",
    )
    app.refresh()
    broken = next(scorer for lane, scorer in app.routing.lanes if lane.arm == "canary")

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("planted")

    broken.app._predict = fail  # the canary's model now fails every request
    answers = many(app, [predict()] * 200)
    statuses = Counter(status for status, _, _ in answers)
    assert statuses[500] > 20 and statuses[500] + statuses[200] == 200
    app.refresh()
    assert [(lane.arm, lane.version) for lane, _ in app.routing.lanes] == [("live", "m:1")]
    endpoint = app.endpoint
    assert (
        endpoint.action == "auto-rollback"
        and "error rate" in endpoint.state["rolled_back"]["reason"]
    )
    assert {status for status, _, _ in many(app, [predict()] * 50)} == {200}


def test_the_canary_score_psi_against_its_baseline_is_measured(
    project: Project, serve: Any
) -> None:
    create_endpoint(project, "fraud", env="prod", variants=["m:1"])
    app = serve()
    update_endpoint(
        project, "fraud", env="prod", variants=["m:2"], canary="50%", rollback_on="psi=0.5"
    )
    app.refresh()
    many(app, [predict()] * 300)  # one row, one score: nothing like the baseline's spread
    stats = app.routing.stats
    assert stats is not None
    observed = stats.snapshot()
    assert observed.psi is not None and observed.psi > 0.5
    app.refresh()
    assert (
        app.endpoint.action == "auto-rollback"
        and "PSI" in app.endpoint.state["rolled_back"]["reason"]
    )


def test_the_endpoint_routes_describe_it(project: Project, serve: Any) -> None:
    create_endpoint(project, "fraud", env="prod", variants=["m:1=60", "m:2=40"], shadow="m:3=10")
    app = serve()

    async def get(path: str) -> Response:
        out: dict[str, Any] = {}

        async def send(message: dict[str, Any]) -> None:
            out.update(message)

        scope = {"type": "http", "method": "GET", "path": path, "headers": [], "query_string": b""}
        await app(scope, None, send)  # type: ignore[arg-type]
        return out["status"], {}, out["body"]

    status, _, body = asyncio.run(get("/ping"))
    assert status == 200 and orjson.loads(body) == {
        "status": "ok",
        "endpoint": "fraud",
        "env": "prod",
        "revision": 1,
    }
    described = orjson.loads(asyncio.run(get("/v1/endpoint"))[2])
    assert [(x["variant"], x["share"]) for x in described["lanes"]] == [("m:1", 60), ("m:2", 40)]
    assert described["shadow"]["share"] == 10
    many(app, [predict()] * 30)
    exposed = metrics(app)
    assert b'shipyard_endpoint_requests_total{arm="live",status="200",variant="m:1"}' in exposed
    model = orjson.loads(asyncio.run(get("/v1/model"))[2])  # other routes: the largest variant
    assert model["ref"] == "m:1"


def test_an_unknown_endpoint_is_not_served(project: Project) -> None:
    with pytest.raises(NotFound, match="No endpoint named 'fraud' in prod"):
        EndpointApp(project, "fraud", env="prod")


def test_a_retired_variant_closes_once_its_requests_are_done(
    project: Project, serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shipyard.serve._endpoint as endpoint_module

    monkeypatch.setattr(endpoint_module, "_RETIRE_GRACE_SECONDS", 0.0)
    create_endpoint(project, "fraud", env="prod", variants=["m:1"], capture=100)
    app = serve()
    ((_, old),) = app.routing.lanes
    capture = old.app.capture
    assert capture is not None
    old.started += 1  # a request still being answered by the old variant
    update_endpoint(project, "fraud", env="prod", variants=["m:2"])
    assert app.refresh() is True
    assert capture.add("r", [ROW], pa.array([0.5]).to_numpy(), None, 1.0)  # still open
    delete_endpoint(project, "fraud", env="prod")  # the server keeps its last revision
    app.refresh()
    assert capture.add("r", [ROW], pa.array([0.5]).to_numpy(), None, 1.0)
    old.finished += 1  # it finished
    app.refresh()
    assert not capture.add("r", [ROW], pa.array([0.5]).to_numpy(), None, 1.0)  # closed
    _, headers, _ = many(app, [predict()])[0]
    assert headers[b"x-shipyard-model"] == b"m:2"


def test_bodies_in_chunks_and_oversize_bodies_reach_the_variant_as_sent(
    project: Project, serve: Any
) -> None:
    create_endpoint(project, "fraud", env="prod", variants=["m:1"], shadow="m:2")
    app = serve()
    limit = project.settings.serve_max_body_bytes

    async def send_chunks(chunks: list[bytes]) -> tuple[int, bytes]:
        pending = [
            {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
            for i, c in enumerate(chunks)
        ]
        out: dict[str, Any] = {}

        async def receive() -> dict[str, Any]:
            return pending.pop(0) if pending else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            out.update(message)

        headers = [(b"content-type", b"application/json")]
        scope = {"type": "http", "method": "POST", "path": "/v1/predict", "headers": headers}
        await app({**scope, "query_string": b""}, receive, send)
        return out["status"], out["body"]

    body = predict()
    status, answer = asyncio.run(send_chunks([body[:5], body[5:20], body[20:]]))
    assert status == 200 and orjson.loads(answer)["variant"] == "m:1"
    status, answer = asyncio.run(send_chunks([b'{"rows": [' + b" " * (limit // 2), b" " * limit]))
    assert status == 413 and orjson.loads(answer)["error"] == "PayloadTooLarge"
    app.shadow_queue.join()
    assert app.shadow_queue.scored == 1  # the refused body was never mirrored
