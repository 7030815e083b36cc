"""Studio's Audit page: events newest first, filtered by who, what, object and time, a page
at a time; only roles that may ``audit`` see it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.server import ShipyardApi
from tests.server.conftest import open_for_api
from tests.ui.conftest import browser, studio_server


@pytest.fixture(scope="module")
def app(studio_root: Path) -> Iterator[ShipyardApi]:
    project = open_for_api(studio_root)
    for i in range(60):  # more than a page of one kind of event
        project.catalog.record_event(
            "endpoint.probe", "endpoint", f"prod/e{i}", actor=project.actor, details={"i": i}
        )
    project.close()
    app = studio_server(studio_root)
    yield app
    app.project.close()


def actions(page: str) -> list[str]:
    return re.findall(r"<td><code>([a-z_.\-]+)</code></td>", page)


def test_events_are_filtered_by_who_what_and_object(
    app: ShipyardApi, tokens: dict[str, str]
) -> None:
    client = browser(app, tokens["deployer-dev"])
    page = client.get("/audit")
    assert page.status_code == 200 and len(actions(page.text)) == 50
    models = client.get("/audit?action=model.&object_id=m:1").text
    assert actions(models) and all(a.startswith("model.") for a in actions(models))
    assert "<code>m:1</code>" in models and 'value="model."' in models  # the filter stays
    nobody = client.get("/audit?actor=nobody").text
    assert "No event matches." in nobody
    future = client.get("/audit?since=2099-01-01T00:00").text
    assert "No event matches." in future


def test_pages_follow_each_other_with_the_filters_kept(
    app: ShipyardApi, tokens: dict[str, str]
) -> None:
    client = browser(app, tokens["admin-dev"])
    first = client.get("/audit").text
    found = re.search(r'<a class="button" href="(/audit\?cursor=[^"]+)"', first)
    assert found, "the first page links to the next"
    second = client.get(found.group(1).replace("&amp;", "&")).text
    ids_first = re.findall(r"<td>(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)</td>", first)
    ids_second = re.findall(r"<td>(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)</td>", second)
    assert ids_second and ids_second[0] <= ids_first[-1]
    probes = client.get("/audit?action=endpoint.probe").text
    assert len(actions(probes)) == 50
    link = re.search(r'<a class="button" href="(/audit\?[^"]+)"', probes)
    assert link and "action=endpoint.probe" in link.group(1)  # the filter follows the pages
    rest = client.get(link.group(1).replace("&amp;", "&")).text
    assert actions(rest) == ["endpoint.probe"] * 10


def test_bad_input_and_roles_that_may_not(app: ShipyardApi, tokens: dict[str, str]) -> None:
    refused = browser(app, tokens["data-scientist-dev"]).get("/audit")
    assert refused.status_code == 403 and "deployer or admin" in refused.text
    client = browser(app, tokens["admin-dev"])
    bad = client.get("/audit?since=yesterday")
    assert bad.status_code == 422 and "&#39;since&#39;" in bad.text
    assert client.get("/audit?cursor=nonsense").status_code == 422
