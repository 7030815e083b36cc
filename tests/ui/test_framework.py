"""Studio's frame: login with a token, the cookie, CSRF, static assets, errors as pages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from shipyard.serve import find_free_port, wait_until_ready
from shipyard.server import ShipyardApi
from tests.ui.conftest import browser, csrf_of, studio_server


def test_a_page_without_login_goes_to_the_login_page(studio_app: ShipyardApi) -> None:
    answer = browser(studio_app).get("/models?x=1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fmodels%3Fx%3D1"


def test_login_keeps_the_token_in_a_strict_http_only_cookie(
    studio_app: ShipyardApi, tokens: dict[str, str]
) -> None:
    client = browser(studio_app)
    answer = client.post("/login", data={"token": tokens["viewer-dev"], "next": "/models"})
    assert answer.status_code == 303 and answer.headers["location"] == "/models"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    home = client.get("/")
    assert home.status_code == 200
    assert "viewer-dev" in home.text and "<b>viewer</b>" in home.text


def test_a_wrong_token_is_refused_on_the_login_page(studio_app: ShipyardApi) -> None:
    answer = browser(studio_app).post("/login", data={"token": "sy_nope", "next": "/"})
    assert answer.status_code == 401
    assert "set-cookie" not in answer.headers
    assert 'role="alert"' in answer.text and "Log in to Studio" in answer.text


def test_login_never_redirects_to_another_site(
    studio_app: ShipyardApi, tokens: dict[str, str]
) -> None:
    client = browser(studio_app)
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        answer = client.post("/login", data={"token": tokens["viewer-dev"], "next": target})
        assert answer.headers["location"] == "/"


def test_a_token_of_another_environment_cannot_log_in(
    studio_app: ShipyardApi, tokens: dict[str, str]
) -> None:
    answer = browser(studio_app).post("/login", data={"token": tokens["admin-prod"]})
    assert answer.status_code == 403
    assert "scoped to prod" in answer.text


def test_the_cookie_is_never_read_by_the_api(
    studio_app: ShipyardApi, tokens: dict[str, str]
) -> None:
    client = browser(studio_app, tokens["admin-all"])
    answer = client.get("/api/v1/models")
    assert answer.status_code == 401
    assert answer.json()["error"] == "Unauthenticated"


def test_a_post_without_the_csrf_token_is_refused(
    studio_app: ShipyardApi, tokens: dict[str, str]
) -> None:
    client = browser(studio_app, tokens["admin-all"])
    answer = client.post("/logout")
    assert answer.status_code == 403 and "CSRF" in answer.text
    assert client.get("/").status_code == 200  # still logged in


def test_a_post_from_another_site_is_refused(
    studio_app: ShipyardApi, tokens: dict[str, str]
) -> None:
    client = browser(studio_app, tokens["admin-all"])
    csrf = csrf_of(client.get("/"))
    answer = client.post("/logout", data={"csrf": csrf}, headers={"Origin": "https://evil.example"})
    assert answer.status_code == 403 and "evil.example" in answer.text


def test_logout_forgets_the_token(studio_app: ShipyardApi, tokens: dict[str, str]) -> None:
    client = browser(studio_app, tokens["admin-all"])
    answer = client.post("/logout", data={"csrf": csrf_of(client.get("/"))})
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert client.get("/").status_code == 303


def test_a_revoked_session_token_goes_back_to_login(studio_app: ShipyardApi) -> None:
    client = browser(studio_app)
    client.cookies.set("shipyard_studio", "sy_stale.token")
    answer = client.get("/experiments")
    assert answer.status_code == 303
    assert answer.headers["location"].endswith("&expired=1")


def test_a_predict_only_token_sees_which_role_it_needs(
    studio_app: ShipyardApi, tokens: dict[str, str]
) -> None:
    answer = browser(studio_app).post("/login", data={"token": tokens["predict-only-dev"]})
    assert answer.status_code == 403
    assert "viewer" in answer.text and "predict-only" in answer.text


def test_an_unknown_page_is_a_404_page_with_a_suggestion(
    studio_app: ShipyardApi, tokens: dict[str, str]
) -> None:
    answer = browser(studio_app, tokens["viewer-dev"]).get("/modles")
    assert answer.status_code == 404
    assert "text/html" in answer.headers["content-type"]
    assert "Did you mean /models?" in answer.text


def test_unknown_api_paths_still_answer_json(studio_app: ShipyardApi) -> None:
    answer = browser(studio_app).get("/api/v1/nothing", headers={"Authorization": "Bearer x"})
    assert answer.status_code == 401 and answer.json()["error"] == "Unauthenticated"


def test_static_assets_are_served_without_a_token(studio_app: ShipyardApi) -> None:
    client = browser(studio_app)
    htmx = client.get("/static/htmx.min.js")
    assert htmx.status_code == 200 and htmx.text.startswith("var htmx=")
    plotly = client.get("/static/plotly.min.js")
    assert plotly.status_code == 200 and "plotly" in plotly.text[:2000].lower()
    assert plotly.headers["content-type"].startswith("text/javascript")
    assert client.get("/static/studio.css").status_code == 200


def test_the_navigation_names_every_room(studio_app: ShipyardApi, tokens: dict[str, str]) -> None:
    page = browser(studio_app, tokens["viewer-dev"]).get("/")
    for room in ("Home", "Datasets", "Features", "Experiments", "Models", "Endpoints",
                 "Monitors", "Pipelines", "Audit"):  # fmt: skip
        assert f">{room}</a>" in page.text
    assert 'aria-current="page">Home' in page.text


def test_a_history_restore_gets_the_whole_page(
    studio_app: ShipyardApi, tokens: dict[str, str]
) -> None:
    client = browser(studio_app, tokens["viewer-dev"])
    restore = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    page = client.get("/experiments/m", headers=restore)
    assert page.status_code == 200 and "<html" in page.text
    assert page.headers["vary"] == "HX-Request"


def test_pages_forbid_scripts_from_elsewhere(
    studio_app: ShipyardApi, tokens: dict[str, str]
) -> None:
    page = browser(studio_app, tokens["viewer-dev"]).get("/")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'self'" in policy
    assert "<script>" not in page.text  # no inline script: the policy would refuse it


def test_shipyard_server_no_studio_serves_the_api_alone(
    studio_root: Path, tokens: dict[str, str]
) -> None:
    port = find_free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    command = [sys.executable, "-m", "shipyard", "server", "--port", str(port), "--no-studio"]
    proc = subprocess.Popen(command, cwd=studio_root, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(proc, f"{url}/healthz", timeout=120)
        bearer = {"Authorization": f"Bearer {tokens['viewer-dev']}"}
        home = httpx.get(f"{url}/", headers=bearer)
        assert home.status_code == 404 and home.json()["error"] == "NotFound"
        assert httpx.get(f"{url}/login").status_code == 401  # no login page either
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_only_a_presented_token_counts_as_a_failed_attempt(studio_root: Path) -> None:
    app = studio_server(studio_root)
    app.guard.limiter.max_failures = 2
    try:
        anonymous = browser(app)
        for _ in range(5):  # a browser before login: redirects, never blocked
            assert anonymous.get("/").status_code == 303
        guesser = browser(app)
        guesser.cookies.set("shipyard_studio", "sy_wrong.guess")
        codes = [guesser.get("/").status_code for _ in range(4)]
        assert codes[:2] == [303, 303] and codes[-1] == 429
        blocked = guesser.get("/")
        assert "text/html" in blocked.headers["content-type"] and "Too many" in blocked.text
    finally:
        app.project.close()
