"""What an endpoint's models served, read from their captured requests: per hour and
variant, how many requests were captured and their latency (p50, p95) and mean score.

Captures hold the sampled share of the requests (the endpoint's ``capture`` percentage), so
the counts are of captured rows; the share of each variant is still the served one. One
DuckDB pass per model over the hours asked, never the rows themselves in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb

from shipyard.capture import capture_relation
from shipyard.deploy.endpoints import EndpointStatus, show_endpoint
from shipyard.environments import environment_project
from shipyard.errors import InvalidInput
from shipyard.project import Project

__all__ = ["EndpointTraffic", "TrafficBucket", "endpoint_traffic"]

MAX_HOURS = 24 * 31


@dataclass(frozen=True)
class TrafficBucket:
    """One hour of one variant: captured requests, latency percentiles in milliseconds, and
    the mean score."""

    hour: datetime
    model: str
    version: int
    variant: str
    requests: int
    latency_p50: float | None
    latency_p95: float | None
    mean_score: float | None


@dataclass(frozen=True)
class EndpointTraffic:
    """An endpoint's status and its captured traffic in ``[since, until)``, oldest first."""

    status: EndpointStatus
    since: datetime
    until: datetime
    buckets: tuple[TrafficBucket, ...]


def endpoint_traffic(
    project: Project, name: str, *, env: str, hours: int = 24, now: datetime | None = None
) -> EndpointTraffic:
    """Endpoint ``name`` of ``env`` and what its models' captures hold for the last ``hours``.

    Raises:
        NotFound: No such endpoint.
        InvalidInput: ``hours`` is not from 1 to 744 (31 days).
    """
    if not 1 <= hours <= MAX_HOURS:
        raise InvalidInput(
            f"The 'hours' parameter must be from 1 to {MAX_HOURS}. Got {hours} instead.",
            details={"hours": hours},
        )
    status = show_endpoint(project, name, env=env)
    until = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    until += timedelta(hours=1)
    since = until - timedelta(hours=hours)
    lanes = [*status.lanes, *([status.shadow] if status.shadow else [])]
    models = sorted({lane.version.split(":")[0] for lane in lanes if lane.version})
    home = environment_project(project, env)
    buckets: list[TrafficBucket] = []
    con = duckdb.connect(":memory:")
    try:
        for model in models:
            rel = capture_relation(con, home.artifacts, model, since=since, until=until)
            if rel is None:
                continue
            rows = rel.aggregate(
                # as naive UTC: an aware timestamp would need pytz to fetch
                "date_trunc('hour', timezone('UTC', captured_at)) AS hour, model_version, "
                "coalesce(variant, '') AS variant, count(*) AS n, "
                "quantile_cont(latency_ms, 0.5) AS p50, quantile_cont(latency_ms, 0.95) AS p95, "
                "avg(score) AS score",
                "date_trunc('hour', timezone('UTC', captured_at)), model_version, "
                "coalesce(variant, '')",
            ).fetchall()
            buckets += [
                TrafficBucket(_utc(h), model, int(v), str(var), int(n), p50, p95, s)
                for h, v, var, n, p50, p95, s in rows
            ]
    finally:
        con.close()
    buckets.sort(key=lambda b: (b.hour, b.model, b.version, b.variant))
    return EndpointTraffic(status, since, until, tuple(buckets))


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
