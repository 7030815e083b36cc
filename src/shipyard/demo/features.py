"""The demo's feature store: a subscriber profile and windowed roaming usage, over 1h, 24h, 7d.

Each usage record is scored the moment it arrives, after it is applied to its subscriber's
windows, so the training spine is the usage records themselves: a row's features are those
the online store held right after that record (its own event counts in its windows).
"""

from __future__ import annotations

from shipyard.features import (
    Aggregate,
    Column,
    Derived,
    Entity,
    FeatureGroup,
    FeatureSet,
    parse_duration,
)

__all__ = ["PROFILE_SQL", "SPINE_SQL", "WINDOWS", "roaming_features"]

WINDOWS = ("1h", "24h", "7d")

PROFILE_SQL = (
    "SELECT subscriber_id, plan, home_country, age_band, segment, device_model, "
    "CAST(activation_date AS TIMESTAMP) AS updated_at FROM subscribers"
)
"""The profile as events: a subscriber's attributes are known from their activation."""

SPINE_SQL = (
    "SELECT subscriber_id, event_time, CAST(event_time AS DATE) AS day FROM {usage} "
    "WHERE event_time < TIMESTAMP '{until}' ORDER BY event_time, subscriber_id"
)
"""One spine row per usage record (of the ``usage`` version given) before the training
cut-off, with the day labels key on."""

_CURRENT = (
    "record_type",
    "duration_s",
    "bytes",
    "destination_country",
    "is_premium_destination",
    "charge",
    "visited_country",
    "visited_operator",
)


def _windowed(window: str) -> list[Aggregate]:
    def agg(function: str, column: str | None, name: str, where: str | None = None) -> Aggregate:
        return Aggregate(function, column, window, filter=where, name=f"{name}_{window}")  # type: ignore[arg-type]

    return [
        agg("count", None, "records"),
        agg("count", None, "calls_out", "record_type = 'voice_out'"),
        agg("sum", "duration_s", "voice_out_s", "record_type = 'voice_out'"),
        agg("count", None, "premium_calls", "is_premium_destination"),
        agg("count", None, "short_calls_in", "record_type = 'voice_in' AND duration_s < 10"),
        agg("count", None, "night_records", "hour(event_time) < 6"),
        agg("sum", "bytes", "bytes"),
        agg("max", "bytes", "max_session_bytes"),
        agg("sum", "charge", "charge"),
        agg("count_distinct", "destination_country", "destinations"),
        agg("count_distinct", "visited_operator", "operators"),
    ] + (
        # The generator gives a subscriber one device per day: over an hour it is constant.
        [] if window == "1h" else [agg("count_distinct", "device_imei_hash", "devices")]
    )


def roaming_features() -> FeatureSet:
    """The entity and the two groups the demo applies, trains on and serves from."""
    subscriber = Entity("subscriber", ("subscriber_id",), "A roaming SIM.")
    profile = FeatureGroup(
        name="subscriber_profile",
        entity="subscriber",
        source="subscriber_profiles",
        event_time="updated_at",
        features=tuple(
            Column(c) for c in ("plan", "home_country", "age_band", "segment", "device_model")
        ),
        owner="fraud-team",
        description="Who the subscriber is: plan, home country, age band, segment, device.",
        tags=("pii",),
    )
    usage = FeatureGroup(
        name="roaming_usage",
        entity="subscriber",
        source="usage",
        event_time="event_time",
        features=(
            *(Column(c) for c in _CURRENT),
            Column("device_model", name="current_device_model"),
            *(a for w in WINDOWS for a in _windowed(w)),
            Derived("calls_out_1h_vs_7d", "calls_out_1h / nullif(calls_out_7d, 0)"),
            Derived("charge_24h_vs_7d", "charge_24h / nullif(charge_7d, 0)"),
            Derived("bytes_24h_vs_7d", "bytes_24h / nullif(bytes_7d, 0)"),
        ),
        ttl=parse_duration("7d", "the ttl"),
        allowed_lateness=parse_duration("1h", "the lateness"),
        owner="fraud-team",
        description="Roaming usage records: the current record and trailing 1h, 24h, 7d windows.",
    )
    return FeatureSet(entities=(subscriber,), groups=(profile, usage))
