"""The Monitors page in a real Chromium: Plotly draws the drift chart from the page's JSON."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.ui.conftest import open_page
from tests.ui.test_monitors_page import record_windows

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def live(studio_root: Path, request: pytest.FixtureRequest) -> str:
    record_windows(studio_root)  # before the server opens the project
    url: str = request.getfixturevalue("live_studio")
    return url


def test_the_monitor_page_draws_a_drift_chart_in_chromium(
    chromium: Any, live: str, tokens: dict[str, str]
) -> None:
    page = open_page(chromium, live, tokens["viewer-dev"])
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live}/monitors/watch")
    page.wait_for_selector("#drift-chart .main-svg", timeout=20_000)
    traces = page.locator("#drift-chart .scatterlayer .trace")
    assert traces.count() == 2  # amount and country
    legend = page.locator("#drift-chart .legendtext").all_text_contents()
    assert sorted(legend) == ["amount", "country"]
    assert page.locator("#quality-chart .main-svg").count() >= 1
    shots = os.environ.get("SHIPYARD_SCREENSHOTS")  # a folder to keep the page's picture in
    if shots:
        page.screenshot(path=str(Path(shots) / "monitor.png"), full_page=True)
    assert errors == []
    page.context.close()
