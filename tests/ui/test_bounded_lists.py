"""Lists Studio never reads whole: Home shows what each environment serves up to eight and
says how many more, and the Endpoints and Pipelines pages go a page at a time."""

from __future__ import annotations

import re

import pytest

from shipyard.entities import Actor
from shipyard.server import ShipyardApi
from tests.ui.conftest import Browser, browser

ACTOR = Actor("tester", "sdk")


@pytest.fixture(scope="module")
def viewer_b(studio_app: ShipyardApi, tokens: dict[str, str]) -> Browser:
    catalog = studio_app.project.catalog
    for i in range(10):  # ten models in staging (the seed has none there)
        catalog.create_model_version(
            f"h{i}", run_id=None, bundle_uri=f"models/h{i}", problem_type="binary",
            signature={}, metrics={}, lineage={}, actor=ACTOR,
        )  # fmt: skip
        catalog.set_alias(f"h{i}", "staging", 1, actor=ACTOR)
    config = {"variants": [{"name": "m@prod", "model": "m@prod", "weight": 100}], "capture": 0}
    for i in range(9):  # nine endpoints in dev
        catalog.create_endpoint("dev", f"e{i}", config=config, state={}, actor=ACTOR)
    for i in range(26):  # 27 pipelines with the seed's "flow": two pages of 25
        definition = {"name": f"p{i:02}", "parameters": {}, "steps": []}
        catalog.register_pipeline(f"p{i:02}", definition=definition, source=None, actor=ACTOR)
    return browser(studio_app, tokens["viewer-dev"])


def section(page: str, env: str) -> str:
    start = page.index(f'id="env-{env}"')
    return page[start : page.index("</section>", start)]


def test_home_shows_eight_of_an_environments_models_and_says_how_many_more(
    viewer_b: Browser,
) -> None:
    staging = section(viewer_b.get("/").text, "staging")
    assert len(re.findall(r'href="/models/h\d/1">h\d@staging</a>', staging)) == 8
    assert '<a href="/models">and 2 more →</a>' in staging


def test_home_bounds_endpoints_with_a_link_to_the_rest(viewer_b: Browser) -> None:
    dev = section(viewer_b.get("/").text, "dev")
    assert len(re.findall(r'href="/endpoints/dev/e\d"', dev)) == 8
    assert 'href="/endpoints?env=dev"' in dev
    only = viewer_b.get("/endpoints?env=dev").text
    assert "<h1>Endpoints in dev</h1>" in only and 'id="env-prod"' not in only
    assert len(re.findall(r'href="/endpoints/dev/e\d"', only)) == 9


def test_pipelines_come_a_page_at_a_time(viewer_b: Browser) -> None:
    first = viewer_b.get("/pipelines").text
    names = re.findall(r'<a href="/pipelines/([\w-]+)">', first)
    assert len(names) == 25 and names == sorted(names)
    more = re.search(r'href="(/pipelines\?cursor=[^"]+)"', first)
    assert more is not None
    rest = re.findall(r'<a href="/pipelines/([\w-]+)">', viewer_b.get(more.group(1)).text)
    assert sorted(names + rest) == sorted([*(f"p{i:02}" for i in range(26)), "flow"])
    assert viewer_b.get("/pipelines?cursor=garbage").status_code == 422
