"""Studio's Datasets pages: datasets and versions a page at a time, a version's schema, rows
and reports (inside Studio, sandboxed), and the SQL box (read-only)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.server import ShipyardApi
from tests.ui.conftest import browser, csrf_of, studio_server


@pytest.fixture(scope="module")
def app(studio_root: Path) -> Iterator[ShipyardApi]:
    app = studio_server(studio_root)
    yield app
    app.project.close()


def test_datasets_versions_and_a_version_with_its_schema_and_rows(
    app: ShipyardApi, tokens: dict[str, str]
) -> None:
    client = browser(app, tokens["viewer-dev"])
    listed = client.get("/datasets")
    assert listed.status_code == 200 and '<a href="/datasets/d">d</a>' in listed.text
    assert "No dataset starting with zz" in client.get("/datasets?prefix=zz").text
    versions = client.get("/datasets/d")
    assert versions.status_code == 200 and '<a href="/datasets/d/1">d@1</a>' in versions.text
    page = client.get("/datasets/d/1").text
    assert '<td>amount</td><td class="mono">DOUBLE</td>' in page
    assert "The first 20 of 600 rows" in page  # the first rows, never the whole table
    assert '<a href="/datasets/d/1/reports/profile">profile</a>' in page


def test_a_report_is_shown_inside_studio_in_a_sandboxed_frame(
    app: ShipyardApi, tokens: dict[str, str]
) -> None:
    client = browser(app, tokens["viewer-dev"])
    page = client.get("/datasets/d/1/reports/profile").text
    assert 'sandbox="allow-scripts" src="/datasets/d/1/reports/profile/page"' in page
    inner = client.get("/datasets/d/1/reports/profile/page")
    assert inner.status_code == 200
    assert inner.headers["content-security-policy"] == "sandbox allow-scripts"
    assert 'src="/static/plotly.min.js"' in inner.text  # not inlined again
    assert len(inner.content) < 2_000_000


def test_the_sql_box_answers_with_a_table_and_refuses_a_write(
    app: ShipyardApi, tokens: dict[str, str]
) -> None:
    client = browser(app, tokens["viewer-dev"])
    csrf = csrf_of(client.get("/datasets"))
    headers = {"HX-Request": "true", "X-CSRF-Token": csrf}
    answer = client.post(
        "/datasets/-/sql", data={"query": "SELECT count(*) AS n FROM d"}, headers=headers
    )
    assert answer.status_code == 200
    assert '<th title="int64">n</th>' in answer.text and "<td>600</td>" in answer.text
    refused = client.post(
        "/datasets/-/sql", data={"query": "COPY d TO '/tmp/x.csv'"}, headers=headers
    )
    assert refused.status_code == 422 and "read-only" in refused.text
    assert "<html" not in refused.text  # a fragment for htmx to swap in, not a whole page
    unknown = client.post("/datasets/-/sql", data={"query": "SELECT * FROM nope"}, headers=headers)
    assert unknown.status_code in (404, 422) and "nope" in unknown.text


def test_bad_input_gets_an_error_page(app: ShipyardApi, tokens: dict[str, str]) -> None:
    client = browser(app, tokens["viewer-dev"])
    missing = client.get("/datasets/dd")
    assert missing.status_code == 404 and "Did you mean &#39;d&#39;?" in missing.text
    assert client.get("/datasets/d/9").status_code == 404
    assert client.get("/datasets/d/0").status_code == 422
    report = client.get("/datasets/d/1/reports/profil")
    assert report.status_code == 404 and "Did you mean &#39;profile&#39;?" in report.text
    assert client.get("/datasets?cursor=nonsense").status_code == 422
    no_csrf = client.post("/datasets/-/sql", data={"query": "SELECT 1"})
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.text
