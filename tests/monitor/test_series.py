"""A monitor's results over time: drift per feature and quality per metric, as series."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from shipyard.errors import InvalidInput, NotFound
from shipyard.monitor import create_monitor, monitor_series, run_monitor
from shipyard.project import Project
from shipyard.registry import LoadedModel
from tests.monitor.conftest import HOUR, usage, write_captures


def test_series_follow_drift_per_feature_and_quality_as_labels_arrive(
    trained: tuple[Project, LoadedModel], labels_of: Callable[..., str]
) -> None:
    project, loaded = trained
    calm = write_captures(project, loaded, usage(2000, 31), HOUR)
    write_captures(project, loaded, usage(2000, 32, shift=0.8), HOUR + timedelta(hours=1))
    labels_of(project, calm, "late")  # only the first window's labels have arrived
    create_monitor(
        project,
        "both",
        model="fraud@prod",
        kinds="drift,model-quality",
        labels="late",
        label="fraud",
        label_key="request_id",
    )
    run_monitor(project, "both", since=HOUR, until=HOUR + timedelta(hours=2))

    series = monitor_series(project, "both")
    assert series.windows == (HOUR, HOUR + timedelta(hours=1))
    mb = next(s for s in series.drift if s.name == "mb")
    assert mb.measure == "distance" and [p.flagged for p in mb.points] == [False, True]
    assert mb.points[1].value > mb.points[0].value  # type: ignore[operator]
    auc = next(s for s in series.quality if s.name == "roc_auc")
    assert [p.note for p in auc.points] == ["measured", "estimated (CBPE)"]
    assert all(p.low < p.value < p.high for p in auc.points)  # type: ignore[operator]
    assert series.baseline["roc_auc"] is not None
    assert [p.value for p in series.labelled.points] == [1.0, 0.0]

    latest = monitor_series(project, "both", windows=1)
    assert latest.windows == (HOUR + timedelta(hours=1),)


def test_series_refuse_an_unknown_monitor_or_a_bad_span(
    trained: tuple[Project, LoadedModel],
) -> None:
    project, _ = trained
    create_monitor(project, "lonely", model="fraud@prod", kinds="drift")
    with pytest.raises(NotFound, match="Did you mean 'lonely'"):
        monitor_series(project, "lonley")
    with pytest.raises(InvalidInput, match="'windows'"):
        monitor_series(project, "lonely", windows=0)
    assert monitor_series(project, "lonely").windows == ()
