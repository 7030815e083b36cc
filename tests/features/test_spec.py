from __future__ import annotations

import pytest

from shipyard.errors import InvalidInput, NotFound
from shipyard.features import Aggregate, Column, Derived, Entity, FeatureGroup, parse_duration


def _group(**overrides: object) -> FeatureGroup:
    fields: dict[str, object] = {
        "name": "usage",
        "entity": "subscriber",
        "source": "usage",
        "event_time": "event_time",
        "features": [
            Column("plan"),
            Aggregate("count", window="1h"),
            Aggregate("sum", "bytes", "24h", filter="record_type = 'data'"),
            Derived("share_1h", "count_1h / nullif(count_7d, 0)"),
            Aggregate("count", window="7d"),
        ],
        "ttl": "7d",
    }
    fields.update(overrides)
    return FeatureGroup(**fields)  # type: ignore[arg-type]


def test_a_group_round_trips_through_its_canonical_dict() -> None:
    group = _group()
    assert FeatureGroup.from_dict(group.to_dict(), version=2) == group.with_version(2)
    assert [f.name for f in group.features] == [
        "plan",
        "count_1h",
        "sum_bytes_24h",
        "share_1h",
        "count_7d",
    ]
    assert group.ttl == 7 * 86_400 and group.max_window == 7 * 86_400


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("1h", 3600), ("7d", 604_800), ("2w", 1_209_600)],
)
def test_durations_parse(text: str, seconds: int) -> None:
    assert parse_duration(text, "a window") == seconds


@pytest.mark.parametrize("text", ["", "1x", "-1h", "0h", "1.5h", "h", True])
def test_a_window_that_does_not_parse_is_refused(text: object) -> None:
    with pytest.raises(InvalidInput, match="positive duration"):
        Aggregate("count", window=text)  # type: ignore[arg-type]


def test_an_unknown_aggregation_suggests_a_close_one() -> None:
    with pytest.raises(InvalidInput, match="Did you mean 'mean'"):
        Aggregate("meen", "bytes")  # type: ignore[arg-type]


def test_an_unknown_feature_suggests_a_close_one() -> None:
    with pytest.raises(NotFound, match="Did you mean 'count_1h'"):
        _group().feature("count_1hr")


def test_duplicate_feature_names_and_empty_groups_are_refused() -> None:
    with pytest.raises(InvalidInput, match="twice"):
        _group(features=[Column("plan"), Column("tier", name="plan")])
    with pytest.raises(InvalidInput, match="no features"):
        _group(features=[])


def test_entity_needs_a_key_and_valid_names() -> None:
    assert Entity("subscriber", "subscriber_id").keys == ("subscriber_id",)
    with pytest.raises(InvalidInput, match="at least one key"):
        Entity("subscriber", ())
    with pytest.raises(InvalidInput, match="name of a feature group"):
        _group(name="bad name")
