"""A group's freshness: its newest event and how old it is, or why it cannot be read."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from shipyard.errors import InvalidInput, NotFound
from shipyard.features import group_freshness
from shipyard.project import Project
from tests.features._online_data import make_events, setup


def test_freshness_is_the_newest_event_and_its_age(project: Project) -> None:
    events = make_events(np.random.default_rng(3))
    setup(project, events)
    now = datetime(2024, 5, 5, tzinfo=UTC)
    fresh = group_freshness(project, "usage", now=now)
    newest = events["ts"].max().to_pydatetime().replace(tzinfo=UTC)
    assert (fresh.events, fresh.newest_event, fresh.source) == (len(events), newest, "usage@1")
    assert fresh.age_seconds == (now - newest).total_seconds()


def test_an_unknown_group_or_a_source_without_its_column_is_refused(project: Project) -> None:
    setup(project, make_events(np.random.default_rng(4)))
    with pytest.raises(NotFound, match="Did you mean 'usage'"):
        group_freshness(project, "usag")
    definition = project.catalog.get_feature_definition("group", "usage").definition
    project.catalog.apply_feature_definitions(
        [("group", "usage", {**definition, "event_time": "when"})], actor=project.actor
    )
    with pytest.raises(InvalidInput, match="cannot read its event time 'when'"):
        group_freshness(project, "usage")
