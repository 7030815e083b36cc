"""The catalog's monitor contract (monitors, runs per window, alerts), on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.contract.test_catalog import catalog  # noqa: F401 - the backend fixture

from shipyard.catalog import Catalog
from shipyard.entities import Actor
from shipyard.errors import AlreadyExists, Conflict, NotFound

ACTOR = Actor("tester", "cli")
START = datetime(2025, 3, 1, 10, tzinfo=UTC)
END = START + timedelta(hours=1)
ALERT = {"severity": "error", "kind": "drift", "violation": "baseline_drift_check", "evidence": {}}


def _monitor(cat: Catalog, name: str = "fraud-watch") -> None:
    cat.create_monitor(
        name,
        model="fraud@prod",
        kinds=["drift", "data-quality"],
        schedule="0 * * * *",
        window_seconds=3600,
        labels={"dataset": "labels", "label": "is_fraud", "key": ["request_id"]},
        action=None,
        webhook={},
        actor=ACTOR,
    )


def test_monitors_are_stored_listed_and_audited(catalog: Catalog) -> None:  # noqa: F811
    _monitor(catalog)
    got = catalog.get_monitor("fraud-watch")
    assert (got.model, got.kinds, got.window_seconds) == (
        "fraud@prod",
        ("drift", "data-quality"),
        3600,
    )
    assert got.labels["key"] == ["request_id"]
    assert [m.name for m in catalog.list_monitors()] == ["fraud-watch"]
    assert catalog.list_events(object_type="monitor")[0].action == "monitor.create"
    with pytest.raises(AlreadyExists):
        _monitor(catalog)
    with pytest.raises(NotFound, match="Did you mean 'fraud-watch'"):
        catalog.get_monitor("fraud-wach")


def test_a_window_runs_once_unless_replaced(catalog: Catalog) -> None:  # noqa: F811
    _monitor(catalog)
    run, raised = catalog.record_monitor_run(
        "fraud-watch",
        window_start=START,
        window_end=END,
        status="violations",
        report={"kinds": {}},
        html_uri=None,
        alerts=[ALERT],
        actor=ACTOR,
    )
    assert (run.window_start, run.violations, raised[0].status) == (START, 1, "open")
    with pytest.raises(AlreadyExists, match="--force"):
        catalog.record_monitor_run(
            "fraud-watch",
            window_start=START,
            window_end=END,
            status="ok",
            report={},
            html_uri=None,
            alerts=[],
            actor=ACTOR,
        )
    again, _ = catalog.record_monitor_run(
        "fraud-watch",
        window_start=START,
        window_end=END,
        status="ok",
        report={},
        html_uri=None,
        alerts=[],
        replace=True,
        actor=ACTOR,
    )
    runs = catalog.list_monitor_runs("fraud-watch")
    assert [r.status for r in runs] == ["ok"] and runs[0].id == again.id
    assert len(catalog.list_alerts(monitor="fraud-watch")) == 1  # the earlier alert stays


def test_alerts_are_notified_and_acked_once(catalog: Catalog) -> None:  # noqa: F811
    _monitor(catalog)
    _, (alert,) = catalog.record_monitor_run(
        "fraud-watch",
        window_start=START,
        window_end=END,
        status="violations",
        report={},
        html_uri=None,
        alerts=[ALERT],
        actor=ACTOR,
    )
    noted = catalog.set_alert_notified(alert.id, {"webhook": "failed"})
    assert noted.notified == {"webhook": "failed"}
    acked = catalog.ack_alert(alert.id, comment="known partner", actor=ACTOR)
    assert (acked.status, acked.acked_by, acked.comment) == ("acked", "tester", "known partner")
    assert catalog.list_alerts(status="open") == []
    with pytest.raises(Conflict, match="acknowledged already"):
        catalog.ack_alert(alert.id, comment=None, actor=ACTOR)
    with pytest.raises(NotFound):
        catalog.ack_alert(999, comment=None, actor=ACTOR)
    with pytest.raises(NotFound):
        catalog.record_monitor_run(
            "nope",
            window_start=START,
            window_end=END,
            status="ok",
            report={},
            html_uri=None,
            alerts=[],
            actor=ACTOR,
        )
