"""The leaderboard opens on the best validation score first, in the direction of the metric
the experiment's search optimized, and any column still sorts it."""

from __future__ import annotations

import re

import pytest

from shipyard.entities import Actor
from shipyard.server import ShipyardApi
from tests.ui.conftest import Browser, browser

SCORES = {"t-a": 0.30, "t-b": 0.10, "t-c": 0.20}
"""Each trial's validation score, recorded in this order (so newest first is c, b, a)."""


@pytest.fixture(scope="module")
def viewer_b(studio_app: ShipyardApi, tokens: dict[str, str]) -> Browser:
    catalog, actor = studio_app.project.catalog, Actor("tester", "sdk")
    for experiment, metric in (("by-loss", "log_loss"), ("by-auc", "pr_auc")):
        search = catalog.create_run(
            experiment=experiment, name="search", params={"metric": metric},
            tags={"kind": "automl"}, inputs={}, actor=actor,
        )  # fmt: skip
        catalog.finish_run(search.id, status="finished", metrics={}, actor=actor)
        for name, score in SCORES.items():
            trial = catalog.create_run(
                experiment=experiment, name=name, params={}, tags={"kind": "trial"}, inputs={},
                actor=actor,
            )  # fmt: skip
            catalog.finish_run(
                trial.id, status="finished", metrics={"valid_score": score}, actor=actor
            )
    return browser(studio_app, tokens["viewer-dev"])


def names(page: str) -> list[str]:
    return re.findall(r'<a href="/runs/[0-9a-f]+">([^<]+)</a>', page)


def test_a_lower_is_better_metric_puts_the_lowest_score_first(viewer_b: Browser) -> None:
    page = viewer_b.get("/experiments/by-loss").text
    assert names(page) == ["t-b", "t-c", "t-a", "search"]  # no score: last
    assert "log_loss: lower is better" in page and 'aria-sort="ascending"' in page


def test_a_higher_is_better_metric_puts_the_highest_score_first(viewer_b: Browser) -> None:
    page = viewer_b.get("/experiments/by-auc").text
    assert names(page) == ["t-a", "t-c", "t-b", "search"]
    assert "pr_auc: higher is better" in page


def test_the_sort_is_still_changeable(viewer_b: Browser) -> None:
    newest = viewer_b.get("/experiments/by-auc?sort=started_at&order=desc").text
    assert names(newest) == ["t-c", "t-b", "t-a", "search"]
    assert "higher is better" not in newest
    worst = viewer_b.get("/experiments/by-auc?sort=metrics.valid_score&order=asc").text
    assert names(worst)[:3] == ["t-b", "t-c", "t-a"]


def test_an_experiment_without_a_search_opens_newest_first(viewer_b: Browser) -> None:
    page = viewer_b.get("/experiments/m").text
    assert "is better" not in page and 'aria-sort="descending"' in page
