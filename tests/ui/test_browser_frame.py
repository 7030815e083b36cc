"""Studio's frame in a real Chromium: log in, navigate by keyboard, log out."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui.conftest import open_page

pytestmark = pytest.mark.e2e


def test_login_navigation_and_logout_in_chromium(
    chromium: Any, live_studio: str, tokens: dict[str, str]
) -> None:
    page = open_page(chromium, live_studio, tokens["viewer-dev"])
    assert "viewer-dev" in page.locator("header").inner_text()
    page.keyboard.press("Tab")  # the first stop is the skip link, then the rooms
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.get_by_role("navigation", name="Rooms").get_by_role("link", name="Experiments").click()
    page.wait_for_url(f"{live_studio}/experiments")
    cookies = page.context.cookies()
    session = next(c for c in cookies if c["name"] == "shipyard_studio")
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # scripts never see the token
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{live_studio}/login")
    page.goto(f"{live_studio}/models")
    assert page.url.startswith(f"{live_studio}/login?next=")
    page.context.close()
