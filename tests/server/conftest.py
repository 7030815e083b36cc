"""A project with a bit of everything for the REST API's tests, made once per session and
copied for each test module that changes it; tokens of every role in every environment."""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from shipyard.analyze import profile_dataset
from shipyard.deploy import create_endpoint
from shipyard.ingest import ingest_path
from shipyard.monitor import create_baseline, create_monitor
from shipyard.pipelines import run_pipeline, wait_for_background_runs
from shipyard.project import Project, init_project
from shipyard.registry import approve_model, promote
from shipyard.security import ROLES, create_token
from shipyard.server import ShipyardApi, create_app
from shipyard.settings import load_settings
from shipyard.train import train
from tests.conftest import serve_frame

ENVS = ("dev", "prod", "all")
GROUP = {
    "name": "usage",
    "entity": "subscriber",
    "source": "d",
    "event_time": "ts",
    "features": [{"name": "amount", "column": "amount"}],
}
# A pipeline that profiles d@1 (reused: seconds) and stops when asked to: a failed run.
FLOW = """
name: flow
parameters:
  stop: {type: bool, default: false}
steps:
  - name: profile
    kind: profile
    config: {dataset: d@1}
  - name: stop
    kind: fail
    when: params.stop
    after: [profile]
    config: {message: stopped on request}
"""


@pytest.fixture(scope="session")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded project: dataset d@1 (profiled), model m:1 trained on it and promoted to
    prod, a monitor "watch" with one run and two open alerts, feature definitions, and a
    token "<role>-<env>" for every role and environment (in tokens.json), endpoint prod/scorer
    serving m@prod, and pipeline "flow" with one failed run."""
    root = tmp_path_factory.mktemp("api-seed")
    project = init_project(root)
    serve_frame().to_parquet(root / "d.parquet")
    ingest_path(project, root / "d.parquet", "d")
    train(project, "d", "y", model_name="m", exclude=["tier", "spend"])
    approve_model(project, "m:1", comment="seeded")
    create_baseline(project, "m:1")
    promote(project, "m:1", "prod")
    profile_dataset(project, "d@1")
    create_monitor(project, "watch", model="m@prod", kinds="drift")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    project.catalog.record_monitor_run(
        "watch",
        window_start=start,
        window_end=start + timedelta(hours=1),
        status="violations",
        report={"summary": "2 violations", "rows": 10, "sections": []},
        html_uri=None,
        alerts=[
            {"severity": s, "kind": "drift", "violation": "baseline_drift_check", "evidence": {}}
            for s in ("warning", "error")
        ],
        actor=project.actor,
    )
    project.catalog.apply_feature_definitions(
        [
            ("entity", "subscriber", {"name": "subscriber", "keys": ["id"]}),
            ("group", "usage", GROUP),
        ],
        actor=project.actor,
    )
    create_endpoint(project, "scorer", env="prod", variants=["m@prod"])
    (root / "pipelines").mkdir()
    (root / "pipelines" / "flow.yaml").write_text(FLOW)
    assert not run_pipeline(project, "flow", {"stop": True}).ok
    tokens = {
        f"{role}-{env}": create_token(project, f"{role}-{env}", role=role, env=env).token
        for role, env in itertools.product(ROLES, ENVS)
    }
    (root / "tokens.json").write_text(json.dumps(tokens))
    project.close()
    return root


@pytest.fixture(scope="module")
def project_root(seed: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the seeded project for one test module to change as it likes."""
    root = tmp_path_factory.mktemp("api") / "project"
    shutil.copytree(seed, root)
    return root


@pytest.fixture(scope="module")
def tokens(seed: Path) -> dict[str, str]:
    tokens: dict[str, str] = json.loads((seed / "tokens.json").read_text())
    return tokens


def open_for_api(root: Path, env: str = "dev", **settings: Any) -> Project:
    return Project(root, settings=load_settings(root, env=env, **settings), face="api")


@pytest.fixture(scope="module")
def app(project_root: Path) -> Iterator[ShipyardApi]:
    """The API over the module's project, acting in dev, its limiter out of the way."""
    project = open_for_api(project_root)
    api = create_app(project)
    api.guard.limiter.max_failures = 1_000_000
    api.guard.authorizer.cache_seconds = 0
    yield api
    assert wait_for_background_runs(timeout=120)
    project.close()


class Api:
    """Calls an ASGI app over httpx, as a client at ``address`` sending ``token``."""

    def __init__(self, app: Any, token: str | None = None, address: str = "10.0.0.1") -> None:
        self.app = app
        self.token = token
        self.address = address

    def as_(self, token: str | None, address: str | None = None) -> Api:
        return Api(self.app, token, address or self.address)

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, client=(self.address, 5000))
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as c:
                return await c.request(method, path, headers=headers, **kwargs)

        return anyio.run(go)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("POST", path, **kwargs)


@pytest.fixture(scope="module")
def api(app: ShipyardApi, tokens: dict[str, str]) -> Api:
    """An admin of every environment."""
    return Api(app, tokens["admin-all"])
