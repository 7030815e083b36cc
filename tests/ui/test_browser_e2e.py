"""Studio end to end in Chromium against a real `shipyard server` on loopback: a viewer and a
deployer find the prod model, read its evaluation report, compare two runs, and approve (the drift
chart in Chromium is `test_monitors_browser.py`)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.ui.conftest import open_page

pytestmark = pytest.mark.e2e


def watch_console(page: Any) -> list[str]:
    """Every console error and refused script (a CSP violation shows up here)."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def test_a_viewer_finds_the_prod_model_and_compares_runs(
    chromium: Any, live_studio: str, tokens: dict[str, str]
) -> None:
    page = open_page(chromium, live_studio, tokens["viewer-dev"])
    errors = watch_console(page)
    prod = page.locator("section", has=page.get_by_role("heading", name="prod", exact=True))
    prod.get_by_role("link", name="m@prod").click()
    page.wait_for_url(f"{live_studio}/models/m/1")
    assert page.get_by_role("heading", name="Lineage").is_visible()
    assert page.locator("svg.lineage .n-environment").count() == 1

    report = page.frame_locator("iframe.report")
    report.get_by_role("heading", name="Model evaluation").wait_for()
    report.locator(".js-plotly-plot").first.wait_for(timeout=20_000)  # plotly.js by URL
    assert page.get_by_role("button", name="Approve").count() == 0  # a viewer's page

    page.get_by_role("navigation", name="Rooms").get_by_role("link", name="Experiments").click()
    page.get_by_role("link", name="m", exact=True).click()
    page.wait_for_url(f"{live_studio}/experiments/m")
    compare = page.get_by_role("button", name="Compare selected")
    assert compare.is_disabled()
    boxes = page.get_by_role("checkbox")
    boxes.nth(0).check()
    boxes.nth(1).check()
    compare.click()
    page.wait_for_url(f"{live_studio}/runs/compare?*")
    assert page.get_by_role("heading", name="Compare 2 runs").is_visible()
    page.locator("#cmp-valid_loss .main-svg").first.wait_for()
    assert page.locator("#cmp-valid_loss .scatterlayer .trace").count() == 2  # overlaid
    assert page.locator("tr.diff").count() > 0
    assert errors == []
    page.context.close()


def test_the_leaderboard_sorts_in_place(
    chromium: Any, live_studio: str, tokens: dict[str, str]
) -> None:
    page = open_page(chromium, live_studio, tokens["viewer-dev"])
    page.goto(f"{live_studio}/experiments/m")
    first = page.locator("#leaderboard tbody tr").first.inner_text()
    page.locator("#leaderboard").get_by_role("link", name="Started").click()
    # htmx swapped the table in and pushed the URL. (Not wait_for_function: when its
    # condition is not true at once, Playwright polls it through eval, which the page's
    # Content-Security-Policy refuses; locators and URL waits need no eval.)
    page.locator("#leaderboard th[aria-sort=ascending]").wait_for()
    page.wait_for_url(re.compile(r"order=asc"))
    assert page.locator("#leaderboard tbody tr").first.inner_text() != first
    assert page.locator("h1").inner_text() == "m"  # the page itself did not reload
    page.context.close()


def test_a_deployer_approves_the_pending_version(
    chromium: Any, live_studio: str, tokens: dict[str, str]
) -> None:
    page = open_page(chromium, live_studio, tokens["deployer-dev"])
    errors = watch_console(page)
    page.goto(f"{live_studio}/models/m")
    row = page.locator("tr", has=page.get_by_role("link", name="m:2"))
    assert "PendingManualApproval" in row.inner_text()
    row.get_by_role("link", name="m:2").click()
    page.get_by_label("Comment to approve").fill("checked the report")
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url("**/models/m/2?done=approved")
    assert page.get_by_role("status").inner_text() == "Approved."
    assert "checked the report" in page.locator("#act-h + *, section").first.inner_text()
    assert page.get_by_role("button", name="Approve").count() == 0
    assert errors == []
    page.context.close()


UNLABELLED = """Array.from(document.querySelectorAll('input:not([type=hidden]), select'))
  .filter(e => !e.labels.length && !e.getAttribute('aria-label')).length"""


@pytest.mark.parametrize("width", [1280, 390])
def test_pages_fit_the_screen_and_label_their_controls(
    chromium: Any, live_studio: str, tokens: dict[str, str], width: int
) -> None:
    page = open_page(chromium, live_studio, tokens["deployer-dev"], width=width)
    for path in ("/", "/experiments", "/experiments/m", "/models", "/models/m", "/models/m/1"):
        page.goto(f"{live_studio}{path}")
        assert page.locator("h1").count() == 1, path
        assert page.evaluate(UNLABELLED) == 0, path
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= width, (path, overflow)  # wide tables scroll inside their box
    page.context.close()
