"""Studio's tests: the REST API tests' seeded project (dataset d@1, model m:1 approved and in
prod, a monitor with open alerts, a token per role and environment) plus a second version
m:2 waiting for approval, so there are two runs to compare and a version to approve."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from shipyard.server import ShipyardApi, create_app
from shipyard.server.studio import create_studio
from shipyard.train import train
from tests.reliability._hostile import running
from tests.server.conftest import open_for_api, seed, tokens  # noqa: F401 - shared fixtures


@pytest.fixture(scope="session")
def studio_seed(seed: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    """The API's seed plus m:2 (trained on the same data, pending approval)."""
    root = tmp_path_factory.mktemp("studio-seed") / "project"
    shutil.copytree(seed, root)
    project = open_for_api(root)
    train(project, "d", "y", model_name="m", exclude=["tier"])
    project.close()
    return root


@pytest.fixture(scope="module")
def studio_root(studio_seed: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the Studio seed for one test module to change."""
    root = tmp_path_factory.mktemp("studio") / "project"
    shutil.copytree(studio_seed, root)
    return root


def studio_server(root: Path, env: str = "dev") -> ShipyardApi:
    """The REST API with Studio at ``/`` over the project at ``root``."""
    project = open_for_api(root, env=env)
    app = create_app(project, studio=create_studio(project))
    app.guard.limiter.max_failures = 1_000_000
    app.guard.authorizer.cache_seconds = 0
    return app


@pytest.fixture(scope="module")
def studio_app(studio_root: Path) -> Iterator[ShipyardApi]:
    app = studio_server(studio_root)
    yield app
    app.project.close()


class Browser:
    """Calls Studio in process as a browser would: keeps its cookies, follows no redirect by
    itself (tests look at each). Starlette's TestClient warns with this httpx, so httpx's
    ASGI transport it is, as the API's tests do."""

    def __init__(self, app: ShipyardApi) -> None:
        self.app = app
        self.cookies = httpx.Cookies()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, client=("127.0.0.1", 5000))
            async with httpx.AsyncClient(
                transport=transport, base_url="http://studio.test", cookies=self.cookies
            ) as client:
                answer = await client.request(method, url, **kwargs)
                self.cookies = httpx.Cookies(client.cookies)
                return answer

        return anyio.run(go)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)


def browser(app: ShipyardApi, token: str | None = None) -> Browser:
    """A :class:`Browser`, logged in with ``token`` when one is given."""
    client = Browser(app)
    if token is not None:
        answer = client.post("/login", data={"token": token, "next": "/"})
        assert answer.status_code == 303, answer.text
    return client


def csrf_of(page: httpx.Response) -> str:
    """The CSRF token a page embeds for its forms."""
    marker = 'name="csrf" value="'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


CHROMIUM = Path("/usr/bin/chromium")
"""Debian's Chromium: Playwright drives it (its own browser download is not used)."""


@pytest.fixture(scope="module")
def live_studio(studio_root: Path) -> Iterator[str]:
    """``shipyard server`` (API and Studio) on loopback over the module's project: its URL."""
    with running(studio_root, "server", deadline=None, ready="/healthz") as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """A headless Chromium under Playwright; the module is skipped where there is none."""
    if not CHROMIUM.exists():
        pytest.skip(f"Studio's browser tests need Chromium at {CHROMIUM}: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield browser
        finally:
            browser.close()


def open_page(chromium: Any, url: str, token: str, width: int = 1280) -> Any:
    """A fresh browser context (its own cookies) logged in to Studio at ``url`` with
    ``token``: the page is on Home."""
    context = chromium.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(90_000)  # a loaded 2-core machine, not a slow page
    page = context.new_page()
    page.goto(f"{url}/")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{url}/")
    return page
