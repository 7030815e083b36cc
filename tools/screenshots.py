"""PNG screenshots of Studio's main pages, for the README and for people to look at.

    .venv/bin/python tools/screenshots.py [--project DIR] [--out docs/screenshots]

Serves ``DIR`` (a Shipyard project; made with a small run of the demo when it holds none)
with ``shipyard server`` on a loopback port, logs in with a fresh admin token, and drives
Debian's Chromium (Playwright) through Home, Experiments, a leaderboard, a run, a comparison,
Models, a model's versions, the prod version, Datasets, a dataset version, a feature group,
Endpoints, Monitors, a monitor, a pipeline's runs and one run, and the audit trail, at 1280
px wide (Home and the version also at 390 px, a phone); a page that answers an error stops
it. ``make screenshots`` runs it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shipyard.catalog.paging import PageQuery
from shipyard.project import Project
from shipyard.serve import find_free_port, wait_until_ready

CHROMIUM = "/usr/bin/chromium"
PHONE = ("home", "model-version")
TALLEST = 2400
"""A long page (a monitor's alerts, the audit trail) is shot down to here: the top is what a
README reader looks at."""
"""The pages also taken at 390 px wide, a phone."""


def ensure_project(root: Path) -> None:
    """A project at ``root``: the demo's, small, when there is none yet."""
    if not (root / ".shipyard").exists():
        from shipyard.demo.run import run_demo

        print(f"No project at {root}: running a small demo there first (a few minutes).")
        run_demo(root, subscribers=3000, days=30, time_budget=120, replay_days=1, http_requests=0)
    _ensure_endpoint(root)


def _ensure_endpoint(root: Path) -> None:
    """The demo scores from a stream and registers no endpoint: give the Endpoints page a
    real one, prod's ``fraud-scorer`` serving the prod alias with 10 % of requests captured."""
    from shipyard.deploy import create_endpoint
    from shipyard.errors import AlreadyExists

    with Project(root) as project, contextlib.suppress(AlreadyExists):
        create_endpoint(project, "fraud-scorer", env="prod", variants=["fraud@prod"], capture=10)


def targets(root: Path) -> tuple[str, list[tuple[str, str]]]:
    """An admin token and the (file name, path) of each page to take."""
    from shipyard.security import create_token

    with Project(root) as project:
        # a name of its own each time: the tool runs again over a project it made before
        name = f"screenshots-{datetime.now(UTC):%Y%m%d-%H%M%S}"
        token = create_token(project, name, role="admin", env="all").token
        model = project.catalog.page_models(PageQuery(limit=1)).items[0]
        version = _prod_or_latest(project, model.name) or model.version
        pipeline_run = project.catalog.list_pipeline_runs("roaming", limit=1)[0].id
        board = (
            project.catalog.page_runs(
                PageQuery("metrics.valid_score", True, 3, None, {"experiment": model.name})
            ).items
            or project.catalog.page_runs(PageQuery(limit=3)).items
        )
    compare = "&".join(f"ids={r.id}" for r in board[:3])
    pages = [
        ("home", "/"),
        ("experiments", "/experiments"),
        ("leaderboard", f"/experiments/{model.name}"),
        ("run", f"/runs/{board[0].id}"),
        ("compare", f"/runs/compare?{compare}"),
        ("models", "/models"),
        ("model-versions", f"/models/{model.name}"),
        ("model-version", f"/models/{model.name}/{version}"),
        # the demo's own names: its training table, feature group, monitor and pipeline
        ("datasets", "/datasets"),
        ("dataset-version", "/datasets/training/1"),
        ("features", "/features/roaming_usage"),
        ("endpoints", "/endpoints"),
        ("monitors", "/monitors"),
        ("monitor", "/monitors/fraud-watch"),
        ("pipelines", "/pipelines/roaming"),
        ("pipeline-run", f"/pipelines/roaming/runs/{pipeline_run}"),
        ("audit", "/audit"),
    ]
    return token, pages


def _prod_or_latest(project: Project, name: str) -> int | None:
    from shipyard.errors import NotFound
    from shipyard.registry import resolve_model

    try:
        return resolve_model(project, f"{name}@prod").version
    except NotFound:
        return None


def shoot(url: str, token: str, pages: list[tuple[str, str]], out: Path) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        _login_shot(browser, url, out)
        for width, suffix in ((1280, ""), (390, "-phone")):
            context = browser.new_context(viewport={"width": width, "height": 900})
            page = context.new_page()
            page.goto(f"{url}/login")
            page.get_by_label("API token").fill(token)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{url}/")
            for name, path in pages if not suffix else [p for p in pages if p[0] in PHONE]:
                answer = page.goto(f"{url}{path}")
                if answer is None or answer.status != 200:  # an error page is no screenshot
                    status = answer.status if answer else "no answer"
                    raise SystemExit(f"{path} answered {status}: {page.inner_text('main')[:500]}")
                page.wait_for_load_state("networkidle")
                _settle(page)
                target = out / f"{name}{suffix}.png"
                height = min(page.evaluate("document.documentElement.scrollHeight"), TALLEST)
                clip = {"x": 0, "y": 0, "width": width, "height": height}
                page.screenshot(path=str(target), full_page=True, clip=clip)
                print(f"wrote {target}")
            context.close()
        browser.close()


def _login_shot(browser: Any, url: str, out: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 600})
    page = context.new_page()
    page.goto(f"{url}/login")
    page.screenshot(path=str(out / "login.png"))
    context.close()


def _settle(page: Any) -> None:
    """Wait for charts and the embedded report to draw."""
    page.wait_for_function(
        "Array.from(document.querySelectorAll('[data-plotly]')).every(e => e.dataset.drawn)",
        timeout=15_000,
    )
    if page.locator("iframe.report").count():
        page.locator("iframe.report").scroll_into_view_if_needed()
        report = page.frame_locator("iframe.report")
        report.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1000)  # the last charts of the report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--project", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    root = args.project or Path(tempfile.mkdtemp(prefix="shipyard-screens-")) / "project"
    ensure_project(root)
    token, pages = targets(root)
    port = find_free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "shipyard", "server", "--port", str(port)], cwd=root, env=env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(server, f"{url}/healthz", timeout=120)
        shoot(url, token, pages, args.out)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
