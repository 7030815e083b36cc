"""The multi-model server (SageMaker's Multi-Model Endpoint) on a live loopback server."""

from __future__ import annotations

import asyncio
import gc
import re
import signal
import subprocess
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import serve_frame
from tests.e2e.cli import shipyard
from tests.serve._live import live_server

from shipyard.errors import InvalidInput
from shipyard.ingest import ingest_path
from shipyard.project import Project, init_project
from shipyard.registry import promote
from shipyard.serve import create_multi_app
from shipyard.serve._multi import parse_memory_cap
from shipyard.train import train

ROW = {"amount": 120.5, "calls": 3, "country": "fr", "roaming": True}
INFER = {
    "inputs": [
        {"name": "amount", "datatype": "FP64", "shape": [1], "data": [120.5]},
        {"name": "calls", "datatype": "INT64", "shape": [1], "data": [3]},
        {"name": "country", "datatype": "BYTES", "shape": [1], "data": ["fr"]},
        {"name": "roaming", "datatype": "BOOL", "shape": [1], "data": [True]},
    ]
}


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    """Three versions of ``m`` (two data sets, so m:2 scores differently), m:1 in prod."""
    root = tmp_path_factory.mktemp("multi")
    project = init_project(root)
    # prod's alias moves between look-alike versions here; its gates are tests/registry's
    (root / "shipyard.yaml").write_text(
        "environments:\n  prod:\n    gates: {approval: false, diagnostics: false, "
        "baseline: false, champion: false}\n"
    )
    for name, seed in (("a", 0), ("b", 1)):
        serve_frame(seed=seed).to_parquet(root / f"{name}.parquet")
        ingest_path(project, root / f"{name}.parquet", name)
    for dataset in ("a", "b", "a"):
        train(project, dataset, "y", model_name="m", exclude=["tier", "spend"])
    promote(project, "m:1", "prod")
    yield project
    project.close()


def served_by(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return response.headers["x-shipyard-model"]


def loads(app: Any) -> list[str]:
    """Wrap the pool's loader to record each version it loads."""
    seen: list[str] = []
    opener = app.pool._open

    def counted(key: str) -> Any:
        seen.append(key)
        return opener(key)

    app.pool._open = counted
    return seen


def test_every_ref_form_reaches_its_version_on_every_route(versions: Project) -> None:
    app = create_multi_app(versions, max_models=5)
    with live_server(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        assert client.get("/ping").status_code == 200
        assert client.get("/v2/health/ready").status_code == 200
        assert served_by(client.post("/models/m:2/invocations", json=[ROW])) == "m:2"
        assert served_by(client.post("/models/m@prod/v1/predict", json={"rows": [ROW]})) == "m:1"
        assert served_by(client.post("/models/m/invocations", json={"instances": [ROW]})) == "m:3"
        assert client.get("/models/m:2/v1/model").json()["version"] == 2
        v2 = client.post("/v2/models/m/versions/2/infer", json=INFER).json()
        assert v2["model_version"] == "2"
        assert client.post("/v2/models/m@prod/infer", json=INFER).json()["model_version"] == "1"
        assert client.get("/v2/models/m:3/ready").json()["ready"] is True
        listed = client.get("/models").json()
        assert [m["model"] for m in listed["loaded"]] == ["m:3", "m:1", "m:2"]  # latest use first
        assert all(m["bytes"] > 10_000 and m["last_used"] for m in listed["loaded"])
        assert listed["bytes"] == sum(m["bytes"] for m in listed["loaded"])
        scores = {
            ref: client.post(f"/models/{ref}/invocations", json=[ROW]).json()["predictions"]
            for ref in ("m:1", "m:2")
        }
        assert scores["m:1"] != scores["m:2"]  # two models, not one answering for both
        metrics = client.get("/metrics").text
        assert "shipyard_multi_model_loads_total 3.0" in metrics


def test_concurrent_first_requests_load_a_version_once(versions: Project) -> None:
    app = create_multi_app(versions, max_models=5)
    seen = loads(app)

    async def burst(base: str) -> list[int]:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            calls = [client.post("/models/m:2/invocations", json=[ROW]) for _ in range(12)]
            calls += [client.post("/v2/models/m/versions/2/infer", json=INFER) for _ in range(4)]
            return [r.status_code for r in await asyncio.gather(*calls)]

    with live_server(app) as base:
        assert asyncio.run(burst(base)) == [200] * 16
    assert seen == ["m:2"]


@pytest.fixture
def no_collector() -> Iterator[None]:
    """Automatic garbage collection off: what is freed is freed by reference counting."""
    gc.collect()
    gc.disable()
    yield
    gc.enable()


def test_lru_unload_frees_the_model(versions: Project, no_collector: None) -> None:
    app = create_multi_app(versions, max_models=2)
    seen = loads(app)
    with live_server(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        served_by(client.post("/models/m:1/invocations", json=[ROW]))
        entry = app.pool.loaded("m:1")
        model = weakref.ref(entry.app.loaded.model)
        del entry
        served_by(client.post("/models/m:2/invocations", json=[ROW]))
        served_by(client.post("/models/m:1/invocations", json=[ROW]))  # m:1 used last: m:2 goes
        served_by(client.post("/models/m:3/invocations", json=[ROW]))
        assert [m["model"] for m in client.get("/models").json()["loaded"]] == ["m:3", "m:1"]
        assert model() is not None  # m:1 stayed: recently used

        served_by(client.post("/models/m:2/invocations", json=[ROW]))  # now m:1 is the LRU
        assert [m["model"] for m in client.get("/models").json()["loaded"]] == ["m:2", "m:3"]
        # (the emptied app shell may live on in an idle worker thread's last job: not the model)
        assert model() is None
        assert served_by(client.post("/models/m:1/invocations", json=[ROW])) == "m:1"
    assert seen == ["m:1", "m:2", "m:3", "m:2", "m:1"]


def test_a_version_in_use_is_released_after_its_last_request(
    versions: Project, no_collector: None
) -> None:
    app = create_multi_app(versions, max_models=1)
    pool = app.pool

    async def scenario() -> None:
        first = await pool.get("m:1")
        model = weakref.ref(first.app.loaded.model)
        other = await pool.get("m:2")  # m:1 is unloaded while its request still runs
        assert first.retired and not first.released
        assert first.app.loaded.model.predict_records([ROW]).scores.shape == (1,)
        await pool.done(first)
        assert first.released
        del first
        assert model() is None
        await pool.done(other)
        await pool.close()

    asyncio.run(scenario())


def test_memory_cap_keeps_the_footprints_under_it(versions: Project) -> None:
    probe = create_multi_app(versions)
    with live_server(probe) as base:
        httpx.post(f"{base}/models/m:1/invocations", json=[ROW], timeout=30)
        size = httpx.get(f"{base}/models").json()["loaded"][0]["bytes"]
    app = create_multi_app(versions, memory_cap=int(size * 2.5))
    with live_server(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        for ref in ("m:1", "m:2", "m:3", "m:1"):
            served_by(client.post(f"/models/{ref}/invocations", json=[ROW]))
            listed = client.get("/models").json()
            assert listed["bytes"] <= size * 2.5 and len(listed["loaded"]) <= 2
        assert [m["model"] for m in listed["loaded"]] == ["m:1", "m:3"]


def test_an_alias_that_moves_is_followed(versions: Project) -> None:
    app = create_multi_app(versions, alias_ttl=0)
    pinned = create_multi_app(versions, alias_ttl=3600)
    with (
        live_server(app) as base,
        live_server(pinned) as pinned_base,
        httpx.Client(timeout=30) as client,
    ):
        assert served_by(client.post(f"{base}/models/m@prod/invocations", json=[ROW])) == "m:1"
        assert served_by(client.post(f"{pinned_base}/models/m@prod/invocations", json=[ROW])) == (
            "m:1"
        )
        promote(versions, "m:2", "prod")
        try:
            answered = client.post(f"{base}/models/m@prod/invocations", json=[ROW])
            assert served_by(answered) == "m:2"
            # within its TTL a server keeps the version it resolved
            kept = client.post(f"{pinned_base}/models/m@prod/invocations", json=[ROW])
            assert served_by(kept) == "m:1"
        finally:
            promote(versions, "m:1", "prod")


def test_bad_refs_and_routes_answer_4xx_saying_what_to_send(versions: Project) -> None:
    app = create_multi_app(versions)
    with live_server(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        unknown = client.post("/models/fraud/invocations", json=[ROW])
        assert unknown.status_code == 404 and "No model named 'fraud'" in unknown.json()["message"]
        missing = client.post("/models/m:9/invocations", json=[ROW])
        assert missing.status_code == 404 and "m" in missing.json()["message"]
        bad = client.post("/models/9x/invocations", json=[ROW])
        assert bad.status_code == 422 and "not a model reference" in bad.json()["message"]
        assert client.get("/models/").status_code == 404
        v2 = client.post("/v2/models/fraud/infer", json=INFER)
        assert v2.status_code == 404 and "fraud" in v2.json()["error"]
        twice = client.get("/v2/models/m:1/versions/2")
        assert twice.status_code == 422 and "names a version twice" in twice.json()["error"]
        route = client.post("/models/m:1/nope", json=[ROW])
        assert route.status_code == 404 and "/invocations" in route.json()["message"]
        wrong = client.post("/models/m:1/invocations", json=[{"amount": 1}])
        assert wrong.status_code == 422 and "missing column(s)" in wrong.json()["message"]
        assert client.delete("/models").status_code == 405


def test_auth_required_guards_every_models_routes(versions: Project) -> None:
    from shipyard.security import create_token
    from shipyard.serve._auth import guard

    reader = create_token(versions, "multi-viewer", role="viewer", env="all", expires="1h")
    scorer = create_token(versions, "multi-predict", role="predict-only", env="all", expires="1h")
    app = guard(create_multi_app(versions), versions, versions.settings.env)
    with live_server(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        assert client.get("/v2/health/ready").status_code == 200  # open, like /ping
        assert client.post("/models/m:1/invocations", json=[ROW]).status_code == 401
        bearer = {"authorization": f"Bearer {scorer.token}"}
        assert served_by(client.post("/models/m:1/invocations", json=[ROW], headers=bearer))
        infer = client.post("/v2/models/m:1/infer", json=INFER, headers=bearer)
        assert infer.status_code == 200
        assert client.get("/models", headers=bearer).status_code == 403  # listing needs read
        assert client.get("/models/m:1/metrics", headers=bearer).status_code == 403
        viewer = {"authorization": f"Bearer {reader.token}"}
        assert client.get("/models", headers=viewer).status_code == 200


@pytest.mark.parametrize(
    ("value", "expected"), [("2GB", 2_000_000_000), ("512MiB", 512 * 2**20), (1000, 1000)]
)
def test_memory_cap_reads_sizes(value: Any, expected: int) -> None:
    assert parse_memory_cap(value) == expected


@pytest.mark.parametrize("value", ["lots", "-1GB", 0])
def test_memory_cap_refuses_what_is_not_a_size(value: Any) -> None:
    with pytest.raises(InvalidInput, match="positive size such as 2GB"):
        parse_memory_cap(value)


def test_max_models_must_be_positive(versions: Project) -> None:
    with pytest.raises(InvalidInput, match="'max_models' parameter of serve must be at least 1"):
        create_multi_app(versions, max_models=0)


@pytest.mark.e2e
def test_cli_serves_every_version_with_multi(versions: Project) -> None:
    command = [sys.executable, "-m", "shipyard", "-C", str(versions.root), "serve", "--multi"]
    proc = subprocess.Popen(
        [*command, "--port", "0", "--max-models", "2", "--memory-cap", "1GB"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.fullmatch(
            r"Serving every model version on (http://\S+) \(Ctrl-C to stop\)\n", line
        )
        assert match, line + (proc.stderr.read() if proc.poll() is not None else "")  # type: ignore[union-attr]
        base = match.group(1)
        response = httpx.post(f"{base}/models/m:3/invocations", json=[ROW], timeout=30)
        assert served_by(response) == "m:3"
        assert httpx.get(f"{base}/models", timeout=30).json()["max_models"] == 2
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert "Traceback" not in err, err


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("m@prod", "--multi"), "Give one thing to serve"),
        ((), "or --multi for every model version"),
        (("--multi", "--memory-cap", "lots"), "positive size such as 2GB"),
    ],
)
def test_cli_refuses_bad_multi_options(
    versions: Project, args: tuple[str, ...], message: str
) -> None:
    proc = shipyard(Path(versions.root), "serve", *args, "--port", "0", check=False)
    assert proc.returncode == 1, proc.stdout
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_shutdown_unloads_every_model(versions: Project) -> None:
    app = create_multi_app(versions, max_models=2)
    with live_server(app, lifespan="on") as base:
        served_by(httpx.post(f"{base}/models/m:1/invocations", json=[ROW], timeout=30))
        entry = app.pool.loaded("m:1")
        model = weakref.ref(entry.app.loaded.model)
        del entry
    assert app.pool.describe()["loaded"] == []
    assert model() is None
