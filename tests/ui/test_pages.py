"""Each Studio page in process (httpx over ASGI): what it shows, and its bad input."""

from __future__ import annotations

import re

import pytest

from shipyard.catalog.paging import PageQuery
from shipyard.server import ShipyardApi
from tests.ui.conftest import Browser, browser, csrf_of


@pytest.fixture(scope="module")
def viewer_b(studio_app: ShipyardApi, tokens: dict[str, str]) -> Browser:
    return browser(studio_app, tokens["viewer-dev"])


@pytest.fixture(scope="module")
def run_ids(studio_app: ShipyardApi) -> list[str]:
    return [r.id for r in studio_app.project.catalog.page_runs(PageQuery(limit=2)).items]


def test_home_shows_environments_alerts_and_runs(viewer_b: Browser) -> None:
    page = viewer_b.get("/")
    assert page.status_code == 200
    for env in ("dev", "staging", "prod"):
        assert f'id="env-{env}"' in page.text
    assert 'href="/models/m/1">m@prod</a>' in page.text
    assert "baseline_drift_check" in page.text  # the seeded open alerts
    assert "/runs/" in page.text


def test_experiments_lists_the_experiment(viewer_b: Browser) -> None:
    page = viewer_b.get("/experiments")
    assert page.status_code == 200 and 'href="/experiments/m"' in page.text
    assert "No experiment starts with" in viewer_b.get("/experiments?prefix=zz").text


def test_the_leaderboard_sorts_on_the_server(viewer_b: Browser, run_ids: list[str]) -> None:
    newest = viewer_b.get("/experiments/m?sort=started_at&order=desc").text
    oldest = viewer_b.get("/experiments/m?sort=started_at&order=asc").text
    order = [m for m in re.findall(r'name="ids" value="([0-9a-f]+)"', newest)]
    assert len(order) == 2
    assert re.findall(r'name="ids" value="([0-9a-f]+)"', oldest) == order[::-1]
    assert 'aria-sort="ascending"' in oldest


def test_htmx_gets_only_the_leaderboard_fragment(viewer_b: Browser) -> None:
    part = viewer_b.get("/experiments/m?status=failed", headers={"HX-Request": "true"})
    assert part.status_code == 200
    assert part.text.lstrip().startswith('<section id="leaderboard"')
    assert "<html" not in part.text and "No run matches these filters." in part.text


@pytest.mark.parametrize(
    ("url", "status", "says"),
    [
        ("/experiments/m?sort=bogus", 422, "must be one of"),
        ("/experiments/m?order=sideways", 422, "order"),
        ("/experiments/m?cursor=garbage", 422, "cursor"),
        ("/experiments/mm", 404, "Did you mean &#39;m&#39;?"),
        ("/experiments/m?sort=%3Cscript%3E", 422, "sort"),
    ],
)
def test_bad_leaderboard_input_is_an_error_page(
    viewer_b: Browser, url: str, status: int, says: str
) -> None:
    page = viewer_b.get(url)
    assert page.status_code == status
    assert "text/html" in page.headers["content-type"]
    assert says in page.text
    assert "<script>" not in page.text.split("</head>")[1]


def test_a_run_page_has_its_curves_and_parameters(viewer_b: Browser, run_ids: list[str]) -> None:
    page = viewer_b.get(f"/runs/{run_ids[0]}")
    assert page.status_code == 200
    assert "Parameters" in page.text and run_ids[0] in page.text
    if 'data-plotly="curves-spec"' in page.text:  # a family with rounds logs its curves
        assert "/static/plotly.min.js" in page.text


def test_an_unknown_run_is_a_404_page(viewer_b: Browser) -> None:
    page = viewer_b.get("/runs/abcdef123456")
    assert page.status_code == 404 and "abcdef123456" in page.text


def test_compare_diffs_parameters(viewer_b: Browser, run_ids: list[str]) -> None:
    url = f"/runs/compare?ids={run_ids[0]}&ids={run_ids[1]}"
    page = viewer_b.get(url)
    assert page.status_code == 200 and "Compare 2 runs" in page.text
    assert 'class="diff"' in page.text  # m:2 left out other columns than m:1
    only = viewer_b.get(url + "&only_diff=true").text
    assert only.count("<tr") < page.text.count("<tr")


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("ids=abcdef1", "two or more"),
        ("ids=NOT-AN-ID&ids=abcdef12", "ids"),
        ("&".join(f"ids={i:08x}" for i in range(11)), "ids"),
    ],
)
def test_bad_compare_input_is_a_422_page(viewer_b: Browser, query: str, says: str) -> None:
    page = viewer_b.get(f"/runs/compare?{query}")
    assert page.status_code == 422 and says in page.text


def test_models_lists_versions_with_status_and_aliases(viewer_b: Browser) -> None:
    assert 'href="/models/m"' in viewer_b.get("/models").text
    page = viewer_b.get("/models/m")
    assert page.status_code == 200
    assert "@prod" in page.text and "PendingManualApproval" in page.text
    assert 'href="/models/m/2"' in page.text


def test_an_unknown_model_suggests_a_name(viewer_b: Browser) -> None:
    page = viewer_b.get("/models/mm")
    assert page.status_code == 404 and "Did you mean" in page.text


def test_the_version_page_shows_lineage_gates_and_the_report(viewer_b: Browser) -> None:
    page = viewer_b.get("/models/m/1")
    assert page.status_code == 200
    assert '<svg class="lineage"' in page.text
    for kind in ("dataset", "run", "model", "environment", "endpoint"):
        assert f'class="node n-{kind}"' in page.text
    assert 'href="/endpoints/prod/scorer"' in page.text  # the endpoint serving m@prod
    assert "Gate results" in page.text and "promoted" in page.text
    assert 'src="/models/m/1/evaluation"' in page.text
    assert "Open the baseline report" in page.text


def test_a_viewer_has_no_approval_buttons(viewer_b: Browser) -> None:
    page = viewer_b.get("/models/m/2")
    assert ">Approve</button>" not in page.text and ">Promote</button>" not in page.text
    assert "may look but not approve" in page.text


def test_the_evaluation_report_is_sandboxed_and_loads_plotly_by_url(viewer_b: Browser) -> None:
    page = viewer_b.get("/models/m/1/evaluation")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == "sandbox allow-scripts"
    assert 'src="/static/plotly.min.js"' in page.text
    assert len(page.content) < 500_000  # plotly.js (4 MB) is not inlined


@pytest.mark.parametrize("url", ["/models/m/0", "/models/m/99", "/models/m/x", "/models/1bad"])
def test_bad_version_urls_are_error_pages(viewer_b: Browser, url: str) -> None:
    page = viewer_b.get(url)
    assert page.status_code in (404, 422)
    assert "text/html" in page.headers["content-type"]


def test_a_viewer_cannot_approve_even_by_hand(viewer_b: Browser) -> None:
    csrf = csrf_of(viewer_b.get("/"))
    answer = viewer_b.post("/models/m/2/approve", data={"csrf": csrf, "comment": "sneaky"})
    assert answer.status_code == 403
    assert "deployer or admin" in answer.text and "viewer" in answer.text


def test_a_deployer_approves_and_rejects(studio_app: ShipyardApi, tokens: dict[str, str]) -> None:
    deployer = browser(studio_app, tokens["deployer-dev"])
    page = deployer.get("/models/m/2")
    assert ">Approve</button>" in page.text
    csrf = csrf_of(page)
    empty = deployer.post("/models/m/2/approve", data={"csrf": csrf, "comment": ""})
    assert empty.status_code == 422
    answer = deployer.post("/models/m/2/approve", data={"csrf": csrf, "comment": "looks good"})
    assert answer.status_code == 303 and answer.headers["location"].endswith("done=approved")
    after = deployer.get(answer.headers["location"]).text
    assert "Approved." in after and "looks good" in after and ">Approve</button>" not in after
    deployer.post("/models/m/2/reject", data={"csrf": csrf, "comment": "changed my mind"})
    assert "changed my mind" in deployer.get("/models/m/2").text


def test_a_dev_deployer_may_not_promote_to_prod(
    studio_app: ShipyardApi, tokens: dict[str, str]
) -> None:
    deployer = browser(studio_app, tokens["deployer-dev"])
    page = deployer.get("/models/m/1")
    assert "<option>dev</option>" in page.text and "<option>prod</option>" not in page.text
    answer = deployer.post(
        "/models/m/1/promote", data={"csrf": csrf_of(page), "environment": "prod"}
    )
    assert answer.status_code == 403 and "scoped to dev" in answer.text


def test_a_refused_promotion_shows_each_gate(
    studio_app: ShipyardApi, tokens: dict[str, str]
) -> None:
    admin = browser(studio_app, tokens["admin-all"])
    page = admin.get("/models/m/2")
    assert "<option>prod</option>" in page.text
    answer = admin.post("/models/m/2/promote", data={"csrf": csrf_of(page), "environment": "prod"})
    assert answer.status_code == 409
    assert '<th scope="col">Gate</th>' in answer.text and "failed" in answer.text
    assert 'href="/models/m/1">m@prod</a>' in admin.get("/").text  # the alias did not move
