"""The demo's training table: one row per roaming subscriber-day, as one DuckDB query."""

from __future__ import annotations

from datetime import date

from shipyard.errors import InvalidInput

__all__ = ["training_table_sql"]

_QUERY = """\
WITH events AS (
    SELECT
        subscriber_id,
        CAST(event_time AS DATE) AS day,
        event_time,
        record_type,
        duration_s,
        bytes,
        destination_country,
        is_premium_destination,
        charge,
        visited_country,
        visited_operator,
        device_imei_hash,
        device_model,
        hour(event_time) < 6 AS is_night,
        COALESCE(
            device_imei_hash <> lag(device_imei_hash) OVER (
                PARTITION BY subscriber_id ORDER BY event_time, device_imei_hash
            ),
            FALSE
        ) AS device_changed
    FROM usage
),
daily AS (
    SELECT
        subscriber_id,
        day,
        count(*) FILTER (WHERE record_type = 'voice_out') AS calls_out,
        count(*) FILTER (WHERE record_type = 'voice_in') AS calls_in,
        COALESCE(sum(duration_s) FILTER (WHERE record_type = 'voice_out'), 0) / 60.0
            AS voice_out_min,
        COALESCE(sum(duration_s) FILTER (WHERE record_type = 'voice_in'), 0) / 60.0
            AS voice_in_min,
        avg(duration_s) FILTER (WHERE record_type = 'voice_out') AS avg_call_out_s,
        avg(CAST(is_night AS DOUBLE)) FILTER (WHERE record_type = 'voice_out')
            AS night_share_out,
        avg(CAST(is_night AS DOUBLE)) AS night_share_all,
        count(DISTINCT destination_country) AS distinct_destinations,
        count(*) FILTER (WHERE is_premium_destination) AS premium_calls,
        COALESCE(sum(duration_s) FILTER (WHERE is_premium_destination), 0) / 60.0
            AS premium_min,
        avg(CAST(duration_s < 60 AS DOUBLE)) FILTER (WHERE record_type = 'voice_out')
            AS short_call_share,
        count(*) FILTER (WHERE record_type = 'voice_in' AND duration_s < 10) AS short_calls_in,
        count(*) FILTER (WHERE record_type = 'sms') AS sms_count,
        count(*) FILTER (WHERE record_type = 'data') AS data_sessions,
        COALESCE(sum(bytes), 0) / 1e6 AS data_mb,
        COALESCE(max(bytes), 0) / 1e6 AS max_session_mb,
        count(DISTINCT visited_operator) AS distinct_operators,
        count(DISTINCT visited_country) AS distinct_countries,
        mode(visited_country) AS visited_country,
        mode(visited_operator) AS visited_operator,
        sum(charge) AS total_charge,
        COALESCE(max(charge) FILTER (WHERE record_type = 'voice_out'), 0) AS max_call_charge,
        CAST(bool_or(device_changed) AS INTEGER) AS device_changed,
        count(DISTINCT device_imei_hash) AS distinct_devices,
        arg_max(device_model, event_time) AS device_model_today
    FROM events
    GROUP BY subscriber_id, day
),
windowed AS (
    SELECT
        *,
        count(*) OVER prev_7d AS roaming_days_prev_7d,
        COALESCE(avg(total_charge) OVER prev_7d, 0) AS avg_charge_prev_7d,
        COALESCE(avg(data_mb) OVER prev_7d, 0) AS avg_data_mb_prev_7d,
        COALESCE(avg(calls_out) OVER prev_7d, 0) AS avg_calls_out_prev_7d,
        date_diff('day', lag(day) OVER by_day, day) AS days_since_prev_roaming
    FROM daily
    WINDOW
        by_day AS (PARTITION BY subscriber_id ORDER BY day),
        prev_7d AS (
            PARTITION BY subscriber_id ORDER BY day
            RANGE BETWEEN INTERVAL 7 DAY PRECEDING AND INTERVAL 1 DAY PRECEDING
        )
),
fraud AS (
    SELECT subscriber_id, day, max(is_fraud) AS is_fraud
    FROM labels
    GROUP BY subscriber_id, day
)
SELECT
    w.subscriber_id,
    w.day,
    s.plan,
    s.home_country,
    s.age_band,
    s.segment,
    s.device_model,
    date_diff('day', s.activation_date, w.day) AS days_since_activation,
    w.visited_country,
    w.visited_operator,
    CAST(w.device_model_today IS DISTINCT FROM s.device_model AS INTEGER)
        AS device_differs_from_profile,
    w.* EXCLUDE (subscriber_id, day, visited_country, visited_operator, device_model_today),
    CAST(COALESCE(f.is_fraud, 0) AS INTEGER) AS is_fraud
FROM windowed AS w
LEFT JOIN subscribers AS s ON s.subscriber_id = w.subscriber_id
LEFT JOIN fraud AS f ON f.subscriber_id = w.subscriber_id AND f.day = w.day
{where}ORDER BY w.day, w.subscriber_id"""


def training_table_sql(since: str | None = None, until: str | None = None) -> str:
    """One DuckDB SELECT producing the training table of the roaming-fraud demo.

    It reads the tables (or views) ``subscribers``, ``usage`` and ``labels`` and yields one
    row per roaming subscriber-day: the subscriber's attributes, the day's usage aggregates,
    trailing 7-day aggregates and ``is_fraud`` (0/1). Windowed features see the history
    before ``since``, so a range of days is always a slice of the full table.

    Args:
        since: First day to include, an ISO date (inclusive); None for no lower bound.
        until: Day to stop before, an ISO date (exclusive); None for no upper bound.

    Raises:
        InvalidInput: ``since`` or ``until`` is not an ISO date, or ``until`` <= ``since``.

    >>> "GROUP BY" in training_table_sql("2026-01-01", "2026-02-20")
    True
    """
    bounds = {"since": _iso_date("since", since), "until": _iso_date("until", until)}
    if bounds["since"] and bounds["until"] and bounds["until"] <= bounds["since"]:
        raise InvalidInput(
            f"The 'until' parameter of training_table_sql must be after 'since'. "
            f"Got since={since!r} and until={until!r} instead."
        )
    conditions = []
    if bounds["since"]:
        conditions.append(f"w.day >= DATE '{bounds['since'].isoformat()}'")
    if bounds["until"]:
        conditions.append(f"w.day < DATE '{bounds['until'].isoformat()}'")
    where = f"WHERE {' AND '.join(conditions)}\n" if conditions else ""
    return _QUERY.format(where=where)


def _iso_date(name: str, value: str | None) -> date | None:
    # Parsing (not quoting) the value is what keeps it from injecting SQL.
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise TypeError
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInput(
            f"The '{name}' parameter of training_table_sql must be an ISO date such as "
            f"'2026-02-20' or None. Got {value!r} instead."
        ) from None
