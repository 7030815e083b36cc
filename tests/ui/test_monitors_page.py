"""Studio's Monitors pages: the list, a monitor's drift and quality charts, its alerts with
their evidence, and acknowledging one (only roles that may ``monitor``)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shipyard.server import ShipyardApi
from tests.server.conftest import open_for_api
from tests.ui.conftest import browser, csrf_of, studio_server

START = datetime(2026, 2, 1, tzinfo=UTC)


def record_windows(root: Path, monitor: str = "watch", hours: int = 3) -> None:
    """``hours`` windows of ``monitor`` as a run stores them: drift per column (the last
    window's amount drifted) and quality measured on labels (the last window's AUC fell)."""
    project = open_for_api(root)
    for h in range(hours):
        last = h == hours - 1
        columns = [
            {"column": "amount", "test": "wasserstein", "distance": 0.05 + 0.3 * last,
             "drifted": last},
            {"column": "country", "test": "jensen_shannon", "distance": 0.02, "drifted": False},
        ]  # fmt: skip
        auc = {"value": 0.6 if last else 0.9, "ci95": [0.55, 0.65] if last else [0.85, 0.95]}
        quality = {
            "kind": "model-quality",
            "violations": [{"evidence": {"metric": "roc_auc"}}] if last else [],
            "counts": {"captured": 100, "labelled": 100 - 40 * last},
            "measured": {"metrics": {"roc_auc": auc}},
            "baseline": {"roc_auc": {"value": 0.91, "ci95": [0.88, 0.94]}},
        }
        evidence = {"column": "amount", "distance": 0.35, "threshold": 0.1, "test": "wasserstein"}
        project.catalog.record_monitor_run(
            monitor,
            window_start=START + timedelta(hours=h),
            window_end=START + timedelta(hours=h + 1),
            status="violations" if last else "ok",
            report={"rows": 100, "sections": [{"kind": "drift", "report": {"columns": columns}},
                                              quality]},
            html_uri=None,
            alerts=[{"severity": "warning", "kind": "drift", "violation": "baseline_drift_check",
                     "evidence": evidence}] if last else [],
            actor=project.actor,
        )  # fmt: skip
    project.close()


@pytest.fixture(scope="module")
def app(studio_root: Path) -> Iterator[ShipyardApi]:
    record_windows(studio_root)
    app = studio_server(studio_root)
    yield app
    app.project.close()


def figure(page: str, chart: str) -> dict[str, Any]:
    found = re.search(rf'<script type="application/json" id="{chart}-spec">(.*?)</script>', page)
    assert found, f"no {chart} on the page"
    spec: dict[str, Any] = json.loads(found.group(1))
    return spec


def test_the_list_shows_each_monitor_with_its_open_alerts(
    app: ShipyardApi, tokens: dict[str, str]
) -> None:
    page = browser(app, tokens["viewer-dev"]).get("/monitors")
    assert page.status_code == 200
    assert '<a href="/monitors/watch">watch</a>' in page.text
    assert "<b>3</b>" in page.text  # two seeded alerts and the drifted window's


def test_a_monitor_draws_drift_per_feature_and_quality_over_time(
    app: ShipyardApi, tokens: dict[str, str]
) -> None:
    page = browser(app, tokens["viewer-dev"]).get("/monitors/watch").text
    assert 'src="/static/plotly.min.js"' in page
    drift = figure(page, "drift-chart")
    amount = next(t for t in drift["data"] if t["name"] == "amount")
    assert amount["y"] == pytest.approx([0.05, 0.05, 0.35])
    assert amount["marker"]["line"]["width"] == [0, 0, 2]  # the drifted window is ringed
    assert len(amount["x"]) == 3 and amount["x"][0].startswith("2026-02-01T00:00")
    quality = figure(page, "quality-chart")
    auc = next(t for t in quality["data"] if t["name"] == "roc_auc")
    assert auc["y"] == pytest.approx([0.9, 0.9, 0.6]) and auc["marker"]["symbol"][-1] == "x"
    assert auc["error_y"]["arrayminus"] == pytest.approx([0.05, 0.05, 0.05])
    baseline = next(t for t in quality["data"] if t["name"] == "roc_auc baseline")
    assert baseline["y"] == [0.91, 0.91]
    assert figure(page, "labelled-chart")["data"][0]["y"] == pytest.approx([1.0, 1.0, 0.6])


def test_alerts_show_their_evidence_and_a_viewer_gets_no_ack_button(
    app: ShipyardApi, tokens: dict[str, str]
) -> None:
    page = browser(app, tokens["viewer-dev"]).get("/monitors/watch").text
    assert "<dt>threshold</dt><dd>0.1</dd>" in page and "<dd>wasserstein</dd>" in page
    assert "Acknowledge" not in page
    client = browser(app, tokens["viewer-dev"])
    csrf = csrf_of(client.get("/"))
    refused = client.post("/monitors/watch/alerts/1/ack", data={"csrf": csrf})
    assert refused.status_code == 403 and "data-scientist" in refused.text


def test_a_data_scientist_acknowledges_an_alert_with_a_comment(
    app: ShipyardApi, tokens: dict[str, str]
) -> None:
    client = browser(app, tokens["data-scientist-dev"])
    page = client.get("/monitors/watch")
    forms = re.findall(r'action="/monitors/watch/alerts/(\d+)/ack"', page.text)
    assert len(forms) == 3
    answer = client.post(
        f"/monitors/watch/alerts/{forms[0]}/ack",
        data={"csrf": csrf_of(page), "comment": "known campaign"},
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/monitors/watch"
    acked = client.get("/monitors/watch?status=acked").text
    assert "Acknowledged by data-scientist-dev" in acked and "known campaign" in acked
    assert len(re.findall(r"/alerts/\d+/ack", client.get("/monitors/watch").text)) == 2


def test_bad_input_gets_an_error_page(app: ShipyardApi, tokens: dict[str, str]) -> None:
    client = browser(app, tokens["viewer-dev"])
    missing = client.get("/monitors/wach")
    assert missing.status_code == 404 and "Did you mean &#39;watch&#39;?" in missing.text
    bad = client.get("/monitors/watch?status=closed")
    assert bad.status_code == 422 and "status" in bad.text
    assert client.get("/monitors?cursor=garbage").status_code == 422
    admin = browser(app, tokens["admin-dev"])
    gone = admin.post("/monitors/watch/alerts/999999/ack", data={"csrf": csrf_of(admin.get("/"))})
    assert gone.status_code == 404 and "999999" in gone.text


def test_the_next_page_of_alerts_comes_as_a_fragment_for_htmx(
    app: ShipyardApi, tokens: dict[str, str]
) -> None:
    client = browser(app, tokens["viewer-dev"])
    headers = {"HX-Request": "true", "HX-Target": "alerts"}
    fragment = client.get("/monitors/watch?status=acked", headers=headers)
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="alerts">') and "<html" not in fragment.text
