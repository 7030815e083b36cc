"""Studio's Pipelines pages: pipelines, a pipeline's runs a page at a time, a run's DAG drawn
with each step's status, its steps' logs, and resuming a failed run."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.pipelines import wait_for_background_runs
from shipyard.server import ShipyardApi
from tests.ui.conftest import browser, csrf_of, studio_server


@pytest.fixture(scope="module")
def app(studio_root: Path) -> Iterator[ShipyardApi]:
    app = studio_server(studio_root)
    yield app
    assert wait_for_background_runs(timeout=120)
    app.project.close()


def failed_run(app: ShipyardApi) -> str:
    runs = app.project.catalog.list_pipeline_runs("flow", status="failed")
    return runs[-1].id


def test_pipelines_and_their_runs_are_listed(app: ShipyardApi, tokens: dict[str, str]) -> None:
    client = browser(app, tokens["viewer-dev"])
    listed = client.get("/pipelines")
    assert listed.status_code == 200 and '<a href="/pipelines/flow">flow</a>' in listed.text
    runs = client.get("/pipelines/flow?status=failed")
    assert runs.status_code == 200 and f"/pipelines/flow/runs/{failed_run(app)}" in runs.text
    assert "Stopped by step" in runs.text
    assert "No run with status running" in client.get("/pipelines/flow?status=running").text


def test_a_run_draws_its_dag_with_each_steps_status_and_logs(
    app: ShipyardApi, tokens: dict[str, str]
) -> None:
    page = browser(app, tokens["viewer-dev"]).get(f"/pipelines/flow/runs/{failed_run(app)}").text
    boxes = re.findall(r'data-step="([^"]+)" data-status="([^"]+)"', page)
    assert boxes == [("profile", "finished"), ("stop", "failed")]
    assert page.count('marker-end="url(#arrow)"') == 1 and "<title>profile → stop</title>" in page
    assert 'fill="#fff1f1" stroke="#b3131b"' in page  # the failed step is drawn red
    assert "profiled d@1" in page and "Stopped by step &#39;stop&#39;" in page
    assert "Resume from the failed step" not in page  # a viewer may not


def test_a_deployer_resumes_a_failed_run(app: ShipyardApi, tokens: dict[str, str]) -> None:
    client = browser(app, tokens["deployer-dev"])
    run_id = failed_run(app)
    page = client.get(f"/pipelines/flow/runs/{run_id}")
    assert "Resume from the failed step" in page.text
    answer = client.post(f"/pipelines/flow/runs/{run_id}/resume", data={"csrf": csrf_of(page)})
    assert answer.status_code == 303
    new = answer.headers["location"]
    assert new.startswith("/pipelines/flow/runs/") and not new.endswith(run_id)
    assert wait_for_background_runs(timeout=120)
    resumed = client.get(new).text
    assert f'href="/pipelines/flow/runs/{run_id}">{run_id[:12]}' in resumed  # what it resumes
    assert re.findall(r'data-step="([^"]+)" data-status="([^"]+)"', resumed) == [
        ("profile", "cached"),
        ("stop", "failed"),
    ]


def test_bad_input_gets_an_error_page(app: ShipyardApi, tokens: dict[str, str]) -> None:
    client = browser(app, tokens["viewer-dev"])
    missing = client.get("/pipelines/flw")
    assert missing.status_code == 404 and "Did you mean &#39;flow&#39;?" in missing.text
    assert client.get("/pipelines/flow?status=done").status_code == 422
    assert client.get("/pipelines/flow/runs/xyz").status_code == 422
    assert client.get("/pipelines/flow/runs/abcdef12").status_code == 404
    elsewhere = client.get(f"/pipelines/other/runs/{failed_run(app)}")
    assert elsewhere.status_code == 404 and "is a run of flow" in elsewhere.text
    viewer = client.post(
        f"/pipelines/flow/runs/{failed_run(app)}/resume", data={"csrf": csrf_of(client.get("/"))}
    )
    assert viewer.status_code == 403 and "deployer" in viewer.text


def test_the_next_page_of_runs_comes_as_a_fragment_for_htmx(
    app: ShipyardApi, tokens: dict[str, str]
) -> None:
    client = browser(app, tokens["viewer-dev"])
    fragment = client.get("/pipelines/flow", headers={"HX-Request": "true", "HX-Target": "runs"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="runs">') and "<html" not in fragment.text


def test_a_deployer_starts_a_run_with_its_parameters(
    app: ShipyardApi, tokens: dict[str, str]
) -> None:
    client = browser(app, tokens["deployer-dev"])
    page = client.get("/pipelines/flow")
    assert 'name="param.stop"' in page.text and 'stop <span class="muted">(bool)' in page.text
    assert '<option value="false" selected>' in page.text  # the default
    answer = client.post(
        "/pipelines/flow/runs", data={"csrf": csrf_of(page), "param.stop": "false"}
    )
    assert answer.status_code == 303, answer.text
    run_id = answer.headers["location"].rsplit("/", 1)[1]
    run = app.project.catalog.get_pipeline_run(run_id)
    assert run.trigger == "ui" and run.params == {"stop": False}
    assert wait_for_background_runs(timeout=120)
    assert app.project.catalog.get_pipeline_run(run_id).status == "finished"


def test_a_bad_parameter_shows_the_form_again_with_the_rooms_message(
    app: ShipyardApi, tokens: dict[str, str]
) -> None:
    client = browser(app, tokens["admin-dev"])
    csrf = csrf_of(client.get("/pipelines/flow"))
    before = len(app.project.catalog.list_pipeline_runs("flow", limit=100))
    bad = client.post("/pipelines/flow/runs", data={"csrf": csrf, "param.stop": "maybe"})
    assert bad.status_code == 422 and "must be true or false" in bad.text
    assert 'name="param.stop"' in bad.text  # the form is there to correct
    unknown = client.post("/pipelines/flow/runs", data={"csrf": csrf, "param.stp": "1"})
    assert unknown.status_code == 422 and "has no parameter &#39;stp&#39;" in unknown.text
    missing = client.post("/pipelines/flw/runs", data={"csrf": csrf})
    assert missing.status_code == 404 and "Did you mean &#39;flow&#39;?" in missing.text
    assert len(app.project.catalog.list_pipeline_runs("flow", limit=100)) == before


def test_a_viewer_sees_no_start_form_and_may_not_start(
    app: ShipyardApi, tokens: dict[str, str]
) -> None:
    client = browser(app, tokens["viewer-dev"])
    page = client.get("/pipelines/flow")
    assert "Start a run" not in page.text and 'name="param.stop"' not in page.text
    refused = client.post("/pipelines/flow/runs", data={"csrf": csrf_of(client.get("/"))})
    assert refused.status_code == 403 and "deployer" in refused.text


def test_a_pipeline_no_file_defines_shows_its_runs_and_why_it_cannot_start(
    app: ShipyardApi, tokens: dict[str, str]
) -> None:
    definition = {"name": "ghost", "parameters": {}, "steps": [{"name": "a", "kind": "fail"}]}
    app.project.catalog.register_pipeline(
        "ghost", definition=definition, source=None, actor=app.project.actor
    )
    page = browser(app, tokens["deployer-dev"]).get("/pipelines/ghost")
    assert page.status_code == 200 and "No run." in page.text
    assert "cannot start as written now" in page.text and "no file defines it now" in page.text
    assert 'action="/pipelines/ghost/runs"' not in page.text
