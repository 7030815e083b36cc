"""Studio's Features pages: groups a page at a time, a group's features, versions and
freshness, and the skew check run from the page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from shipyard.features import materialize
from shipyard.server import ShipyardApi
from tests.features._online_data import make_events, setup
from tests.server.conftest import open_for_api
from tests.ui.conftest import browser, csrf_of, studio_server


@pytest.fixture(scope="module")
def app(studio_root: Path) -> Iterator[ShipyardApi]:
    project = open_for_api(studio_root)
    setup(project, make_events(np.random.default_rng(0)))  # usage v2: a real source
    materialize(project, "usage")
    project.close()
    app = studio_server(studio_root)
    yield app
    app.project.close()


def test_groups_are_listed_with_their_latest_version(
    app: ShipyardApi, tokens: dict[str, str]
) -> None:
    client = browser(app, tokens["viewer-dev"])
    page = client.get("/features")
    assert page.status_code == 200 and '<a href="/features/usage">usage</a>' in page.text
    assert '<td class="n">2</td>' in page.text
    assert "No feature group starting with zz" in client.get("/features?prefix=zz").text


def test_a_group_shows_its_features_versions_and_freshness(
    app: ShipyardApi, tokens: dict[str, str]
) -> None:
    page = browser(app, tokens["viewer-dev"]).get("/features/usage").text
    assert '<td>sum_amount_1h</td><td>aggregate</td><td class="mono">sum(amount) over 1h' in page
    assert "<td>ratio</td><td>derived</td>" in page
    assert "2024-05-03" in page  # the newest event of the three days
    assert "600 in usage@1" in page
    assert page.count('<td class="n">1</td><td class="n">1</td>') == 1  # v1, one feature


def test_the_skew_check_runs_from_the_page(app: ShipyardApi, tokens: dict[str, str]) -> None:
    client = browser(app, tokens["viewer-dev"])
    csrf = csrf_of(client.get("/features/usage"))
    answer = client.post(
        "/features/usage/skew",
        data={"sample": "5"},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf},
    )
    assert answer.status_code == 200, answer.text
    assert "5 entities" in answer.text and "<b>0</b> value(s) differ" in answer.text
    bad = client.post(
        "/features/usage/skew",
        data={"sample": "0"},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf},
    )
    assert bad.status_code == 422 and "sample" in bad.text


def test_bad_input_gets_an_error_page(app: ShipyardApi, tokens: dict[str, str]) -> None:
    client = browser(app, tokens["viewer-dev"])
    missing = client.get("/features/usag")
    assert missing.status_code == 404 and "Did you mean &#39;usage&#39;?" in missing.text
    assert client.get("/features?cursor=nonsense").status_code == 422
