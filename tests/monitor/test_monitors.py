"""Baselines, monitors run per window, and the alerts they raise."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from shipyard.errors import InvalidInput, NotFound, ShipyardError, ShipyardWarning
from shipyard.monitor import (
    ack_alert,
    create_baseline,
    create_monitor,
    list_alerts,
    load_baseline,
    monitor_history,
    run_monitor,
)
from shipyard.project import Project
from shipyard.registry import LoadedModel
from tests.monitor.conftest import HOUR, usage, write_captures

Trained = tuple[Project, LoadedModel]
H1 = HOUR + timedelta(hours=1)


def uncertain(n: int, seed: int) -> pd.DataFrame:
    """Rows where the model is unsure (partner C, volume near the decision boundary): the
    same concept, so calibrated scores stay honest, but a much lower AUC and accuracy."""
    rng = np.random.default_rng(seed)
    mb = rng.normal(72.0, 5.0, n)
    logit = 0.06 * (mb - 80) + 2.0 - 1.5
    fraud = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {"mb": mb, "calls": rng.poisson(5, n).astype(float), "partner": "C", "fraud": fraud}
    )


def test_training_stores_a_baseline(trained: Trained) -> None:
    project, _ = trained
    base = load_baseline(project, "fraud@prod").payload
    rules = {(r["column"], r["rule"]) for r in base["constraints"]["rules"]}
    assert {("mb", "type"), ("partner", "allowed_values"), ("mb", "range")} <= rules
    assert base["metrics"]["roc_auc"]["ci95"][0] < base["metrics"]["roc_auc"]["value"]
    assert sum(base["prediction"]["histogram"]["counts"]) == base["prediction"]["rows"]
    assert base["attribution"]["features"][0]["feature"] == "mb"
    assert base["calibration"] == "isotonic"


def test_an_older_version_is_baselined_from_its_lineage(trained: Trained) -> None:
    project, _ = trained
    again = create_baseline(project, "fraud:1")
    assert "sample of usage@1" in again.payload["reference"]["note"]
    assert again.payload["reference"]["rows"] == 4000


def test_a_model_without_baseline_says_how_to_make_one(
    project: Project, ingest: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import shipyard.monitor
    from shipyard.train import train

    def fail(*args: object, **kwargs: object) -> None:
        raise InvalidInput("no data")

    monkeypatch.setattr(shipyard.monitor, "build_baseline", fail)
    ingest(usage(600, 3), "u")
    with pytest.warns(ShipyardWarning, match="No monitoring baseline"):
        train(project, "u", "fraud", model_name="m", family="lightgbm")
    with pytest.raises(NotFound, match="shipyard models baseline m:1 --create"):
        create_monitor(project, "w", model="m:1")


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("kinds", "drift,model-qualty", "Did you mean 'model-quality'"),
        ("schedule", "61 * * *", "not a cron expression"),
        ("window", "90s", "whole number of minutes"),
        ("webhook", "ftp://x", "http:// or https://"),
    ],
)
def test_bad_settings_are_refused(trained: Trained, option: str, value: str, message: str) -> None:
    project, _ = trained
    with pytest.raises(InvalidInput, match=message):
        create_monitor(project, f"bad-{option}", model="fraud@prod", **{option: value})


def test_an_empty_window_gets_a_report_that_says_so(trained: Trained) -> None:
    project, _ = trained
    create_monitor(project, "empty", model="fraud@prod", kinds="drift,data-quality")
    far = HOUR - timedelta(days=30)
    result = run_monitor(project, "empty", since=far, until=far + timedelta(hours=1))
    (window,) = result.windows
    assert window.run is not None and window.run.status == "empty"
    assert "No captured rows" in window.run.report["summary"] and result.violations == 0


def test_drift_flags_a_planted_shift_and_not_noise(trained: Trained) -> None:
    project, loaded = trained
    write_captures(project, loaded, usage(3000, 11), HOUR - timedelta(hours=5))
    write_captures(project, loaded, usage(3000, 12, shift=0.8), HOUR - timedelta(hours=4))
    create_monitor(project, "drift", model="fraud@prod", kinds="drift")
    calm = run_monitor(
        project, "drift", since=HOUR - timedelta(hours=5), until=HOUR - timedelta(hours=4)
    )
    shifted = run_monitor(
        project, "drift", since=HOUR - timedelta(hours=4), until=HOUR - timedelta(hours=3)
    )
    assert calm.violations == 0
    flagged = {a.evidence["column"] for a in shifted.windows[0].alerts if "column" in a.evidence}
    assert "mb" in flagged and "score" in flagged and "partner" not in flagged
    again = run_monitor(
        project, "drift", since=HOUR - timedelta(hours=4), until=HOUR - timedelta(hours=3)
    )
    assert again.windows[0].skipped and again.violations == 0  # idempotent per window


def test_quality_is_estimated_before_labels_and_measured_after(
    trained: Trained, labels_of: Callable[..., str]
) -> None:
    project, loaded = trained
    start = HOUR + timedelta(hours=6)
    normal = write_captures(project, loaded, usage(1500, 21), start - timedelta(hours=1))
    hard = write_captures(project, loaded, uncertain(3000, 22), start)
    junk = pd.DataFrame({"request_id": ["nope-1", "nope-2"], "fraud": [1, 0]})
    labels_of(project, pd.concat([normal, junk]), "fraud_labels")
    create_monitor(
        project,
        "quality",
        model="fraud@prod",
        kinds="model-quality",
        labels="fraud_labels",
        label="fraud",
        label_key="request_id",
    )
    before = run_monitor(project, "quality", since=start, until=start + timedelta(hours=1))
    section = before.windows[0].run.report["sections"][0]  # type: ignore[union-attr]
    assert section["counts"]["labelled"] == 0 and section["counts"]["unlabelled"] == 3000
    assert section["counts"]["unmatched_labels"] == 2
    baseline_auc = load_baseline(project, "fraud@prod").payload["metrics"]["roc_auc"]["value"]
    assert section["estimated"]["roc_auc"] < baseline_auc - 0.1
    violations = {a.violation for a in before.windows[0].alerts}
    assert {"model_quality_estimate_check", "label_join_check"} <= violations

    labels_of(project, pd.concat([normal, hard]), "fraud_labels")  # the labels arrive
    # The next run (here: of the same span, already checked) measures the labelled window.
    after = run_monitor(project, "quality", since=start, until=start + timedelta(hours=1))
    skipped, refreshed = after.windows
    assert skipped.skipped and refreshed.refreshed and refreshed.start == start
    section = refreshed.run.report["sections"][0]  # type: ignore[union-attr]
    assert section["counts"]["labelled"] == 3000 and section["counts"]["unlabelled"] == 0
    measured = section["measured"]["metrics"]["roc_auc"]["value"]
    estimated = before.windows[0].run.report["sections"][0]["estimated"]["roc_auc"]  # type: ignore[union-attr]
    assert measured < baseline_auc - 0.1 and abs(measured - estimated) < 0.1
    new = {a.violation for a in refreshed.alerts}
    assert "model_quality_check" in new and "label_join_check" not in new  # not alerted twice
    assert monitor_history(project, "quality")[0].violations >= 2


def test_alerts_are_listed_acked_and_a_down_webhook_is_recorded(
    trained: Trained, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from shipyard.monitor import _notify

    monkeypatch.setattr(_notify, "BACKOFF", 0.0)
    project, loaded = trained
    start = HOUR + timedelta(hours=10)
    write_captures(project, loaded, usage(2000, 31, shift=1.0), start)
    marker = tmp_path / "retrain.json"
    create_monitor(
        project,
        "alerting",
        model="fraud@prod",
        kinds="data-quality",
        webhook="http://127.0.0.1:9/down",
        on_violation=f'printf "%s" "$SHIPYARD_ALERT" > {marker}',
    )
    result = run_monitor(project, "alerting", since=start, until=start + timedelta(hours=1))
    assert result.violations > 0
    alert = result.windows[0].alerts[0]
    assert alert.notified["webhook"]["status"] == "failed"
    assert alert.notified["webhook"]["attempts"] == 4
    assert alert.notified["action"]["status"] == "ok" and "alerting" in marker.read_text()
    listed = list_alerts(project, monitor="alerting", open_only=True)
    assert alert.id in {a.id for a in listed}
    ack_alert(project, alert.id, comment="new roaming partner")
    assert alert.id not in {a.id for a in list_alerts(project, monitor="alerting", open_only=True)}
    assert monitor_history(project, "alerting")[0].status == "violations"
    with pytest.raises(ShipyardError):
        ack_alert(project, "x1")


def test_without_a_span_it_runs_every_complete_window_since_the_last(trained: Trained) -> None:
    project, loaded = trained
    start = HOUR + timedelta(days=2)
    for h in range(3):
        write_captures(project, loaded, usage(300, 40 + h), start + timedelta(hours=h))
    create_monitor(project, "cron", model="fraud@prod", kinds="data-quality", schedule="0 * * * *")
    run_monitor(project, "cron", since=start, until=start + timedelta(hours=1))
    first = run_monitor(project, "cron", now=start + timedelta(hours=2, minutes=30))
    assert [w.start for w in first.windows] == [start + timedelta(hours=1)]  # complete ones
    second = run_monitor(project, "cron", now=start + timedelta(hours=3, minutes=5))
    assert [w.start for w in second.windows] == [start + timedelta(hours=2)]
    assert [r.report["rows"] for r in monitor_history(project, "cron")] == [300, 300, 300]


def test_attribution_drift_flags_a_changed_ranking(trained: Trained) -> None:
    project, loaded = trained
    start = HOUR + timedelta(days=4)
    flat = usage(2000, 51)
    flat["mb"] = 75.0  # the top feature stops varying, near its neutral value: it stops mattering
    write_captures(project, loaded, flat, start)
    create_monitor(project, "attr", model="fraud@prod", kinds="attribution")
    result = run_monitor(project, "attr", since=start, until=start + timedelta(hours=1))
    (alert,) = result.windows[0].alerts
    assert alert.violation == "feature_attribution_drift_check"
    assert alert.evidence["ndcg"] < 0.9 and alert.evidence["current_top"][0] != "mb"


def test_bias_drift_compares_the_labelled_window_with_the_baseline(
    project: Project, ingest: Callable[..., str], labels_of: Callable[..., str]
) -> None:
    from shipyard.registry import load_model
    from shipyard.train import train

    ingest(usage(3000, 61), "u")
    train(project, "u", "fraud", model_name="b", family="lightgbm", facet="partner")
    base = load_baseline(project, "b:1").payload
    assert base["bias"]["facet"] == "partner"
    rows = write_captures(project, load_model(project, "b:1"), usage(2000, 62), HOUR)
    labels_of(project, rows, "blabels")
    create_monitor(project, "bias", model="b:1", kinds="bias", labels="blabels", label="fraud")
    result = run_monitor(project, "bias", since=HOUR, until=HOUR + timedelta(hours=1))
    (section,) = result.windows[0].run.report["sections"]  # type: ignore[union-attr]
    assert section["status"] in ("ok", "violations")
    assert section["report"]["rows"] == 2000 and section["report"]["facet"] == "partner"
