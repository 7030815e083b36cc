"""Windowed aggregates by DuckDB window functions, and the choice between the two strategies.

The join strategy (:func:`shipyard.features._sql.aggregate_sql`) pairs each spine row with
every event of its entity in the longest window. When the spine is as dense as the events (the
usage records themselves, say) that is quadratic per entity. The window strategy instead sorts
the events and the spine rows once per entity and computes each aggregate over a sliding frame
``RANGE BETWEEN W - 1 PRECEDING AND CURRENT ROW`` in microseconds, which covers
``T - W < t <= T`` exactly: ``CURRENT ROW`` in a ``RANGE`` frame takes its peers, so events at
exactly ``T`` are in, whatever their place in the sort. Only events count (``FILTER``).
DuckDB computes ``count(DISTINCT)``, ``FILTER`` and ``arg_max`` over such frames; ``last``
breaks ties among equal times by arrival with ``arg_max`` over the (time, arrival) key, as the
join does. A spine row at the exact time of an event of its entity has that event's frame, so
it reads the event's values rather than being sorted in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeAlias

from shipyard.features._spec import Aggregate, FeatureGroup
from shipyard.features._sql import aggregate_expr, events_sql, ident

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "STRATEGIES",
    "Estimate",
    "Strategy",
    "choose_strategy",
    "estimate",
    "register_spine_keys",
    "scope_sql",
    "window_table",
]

Strategy: TypeAlias = Literal["auto", "join", "window"]
STRATEGIES: tuple[Strategy, ...] = ("auto", "join", "window")

WINDOW_OVER_JOIN = 4.0
"""Joined pairs per sorted row above which windows win: a sorted row costs the window
functions about as much as this many joined pairs cost the join and its GROUP BY (measured on
the offline benchmark and the demo's dense spine)."""

_US = 1_000_000


@dataclass(frozen=True)
class Estimate:
    """What the two strategies would handle for one group and spine."""

    pairs: float
    """(spine row, event in the longest window) pairs the join would make, estimated."""
    rows: int
    """Rows the window functions would sort: spine rows plus their entities' events."""

    @property
    def strategy(self) -> Strategy:
        return "window" if self.pairs > WINDOW_OVER_JOIN * max(self.rows, 1) else "join"


def _keys(entity: Sequence[str], prefix: str = "") -> str:
    return ", ".join(f"{prefix}{ident(k)} AS __k{i}" for i, k in enumerate(entity))


def scope_sql(keys: Sequence[str], longest_us: int | None) -> str:
    """What follows ``FROM (events) e`` to keep only the events of the spine's entities (the
    temp table ``spine_keys``) up to its latest time and, given a window, after its earliest
    time minus the window: the only events any spine row can see."""
    on = " AND ".join(f"e.{ident(k)} = sk.__k{i}" for i, k in enumerate(keys))
    since = (
        ""
        if longest_us is None
        else f"AND e.__us > (SELECT min(__spine_us) FROM spine) - {longest_us}"
    )
    return (
        f"SEMI JOIN spine_keys sk ON {on} "
        f"WHERE e.__us <= (SELECT max(__spine_us) FROM spine) {since}"
    )


def register_spine_keys(con: duckdb.DuckDBPyConnection, entity: Sequence[str]) -> None:
    """The temp table ``spine_keys``: the spine's entities (``__k{i}``) and their rows."""
    not_null = " AND ".join(f"{ident(k)} IS NOT NULL" for k in entity)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE spine_keys AS SELECT {_keys(entity)}, count(*) AS __n "
        f"FROM spine WHERE {not_null} AND __spine_us IS NOT NULL GROUP BY ALL"
    )


def estimate(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[str],
    group: FeatureGroup,
    keys: Sequence[str],
    entity: Sequence[str],
    longest_us: int,
) -> Estimate:
    """Count each strategy's work with one GROUP BY of the spine and one scan of event keys
    (needs the temp table ``spine_keys``).

    The join's pairs are the spine rows times the events of their entity, scaled by the
    share of the spine's time range (plus the window) that one window covers.
    """
    events = events_sql(files, group, keys, (), arrival=False)
    on = " AND ".join(f"e.{ident(k)} = sk.__k{i}" for i, k in enumerate(keys))
    row = con.execute(
        f"SELECT coalesce(sum(sk.__n), 0), count(*), "
        "(SELECT max(__spine_us) - min(__spine_us) FROM spine), (SELECT count(*) FROM spine) "
        f"FROM ({events}) e JOIN spine_keys sk ON {on} "
        f"WHERE e.__us > (SELECT min(__spine_us) FROM spine) - {longest_us} "
        "AND e.__us <= (SELECT max(__spine_us) FROM spine)"
    ).fetchall()
    pairs, events_n, span, spine_n = row[0]  # an aggregate query returns one row
    share = longest_us / ((span or 0) + longest_us)
    return Estimate(pairs=float(pairs) * share, rows=int(spine_n) + int(events_n))


def choose_strategy(
    con: duckdb.DuckDBPyConnection,
    strategy: Strategy,
    files: Sequence[str],
    group: FeatureGroup,
    keys: Sequence[str],
    entity: Sequence[str],
    aggregates: Sequence[Aggregate],
) -> Strategy:
    """``strategy`` unless it is ``auto``, then the cheaper one by :func:`estimate`.

    The estimate scans the events' keys; it is skipped when the spine alone shows the join
    wins: its pairs are at most the share times the most spine rows of one entity times the
    events, so below ``WINDOW_OVER_JOIN`` times the rows when that product is.
    """
    if strategy != "auto":
        return strategy
    longest = max(a.window_seconds for a in aggregates) * _US
    row = con.execute(
        "SELECT (SELECT coalesce(max(__n), 0) FROM spine_keys), "
        "(SELECT max(__spine_us) - min(__spine_us) FROM spine)"
    ).fetchall()
    most, span = row[0]
    if longest / ((span or 0) + longest) * most <= WINDOW_OVER_JOIN:
        return "join"
    return estimate(con, files, group, keys, entity, longest).strategy


def _frames(
    aggregates: Sequence[Aggregate], filters: list[str], internal: dict[str, str], partition: str
) -> tuple[list[str], str]:
    """The window expressions of ``aggregates`` and the ``WINDOW`` clause they name."""
    frames: dict[int, str] = {}
    picks = []
    for feature in aggregates:
        width = feature.window_seconds * _US
        name = frames.setdefault(width, f"w{len(frames)}")
        when = "__spine_row IS NULL"
        if feature.filter:
            when += f" AND __f{filters.index(feature.filter)}"
        value = aggregate_expr(feature, when, table="")
        picks.append(f"{value} OVER {name} AS {ident(internal[feature.name])}")
    windows = ", ".join(
        f"{name} AS (PARTITION BY {partition} ORDER BY __us "
        f"RANGE BETWEEN {width - 1} PRECEDING AND CURRENT ROW)"
        for width, name in frames.items()
    )
    return picks, windows


def window_table(
    con: duckdb.DuckDBPyConnection,
    index: int,
    files: Sequence[str],
    group: FeatureGroup,
    keys: Sequence[str],
    entity: Sequence[str],
    aggregates: Sequence[Aggregate],
    internal: dict[str, str],
) -> str:
    """Every aggregate of ``aggregates`` per spine row, by window functions over the events
    of the spine's entities and the spine rows (needs the temp table ``spine_keys``).

    A ``RANGE`` frame is the same for rows with equal time, so a spine row at the exact time
    of one of its entity's events takes that event's values (by an ``ASOF JOIN``) instead of
    adding a row to sort: a spine made of the events themselves sorts each row once.
    """
    filters = list(dict.fromkeys(a.filter for a in aggregates if a.filter))
    columns = [a.column for a in aggregates if a.column]
    arrival = any(a.function == "last" for a in aggregates)
    longest = max(a.window_seconds for a in aggregates) * _US
    events = events_sql(files, group, keys, columns, filters, arrival=arrival)
    ev, win = f"__events{index}", f"__windows{index}"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {ev} AS SELECT e.*, {_keys(keys, 'e.')} "
        f"FROM ({events}) e {scope_sql(keys, longest)}"
    )
    at = " AND ".join(f"s.{ident(k)} = e.__k{i}" for i, k in enumerate(entity))
    union = (
        f"SELECT *, NULL::BIGINT AS __spine_row FROM {ev} UNION ALL BY NAME "
        f"SELECT {_keys(entity, 's.')}, s.__spine_us AS __us, s.__spine_row FROM spine s "
        f"ANTI JOIN {ev} e ON {at} AND e.__us = s.__spine_us"
    )
    partition = ", ".join(f"__k{i}" for i in range(len(keys)))
    picks, windows = _frames(aggregates, filters, internal, partition)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {win} AS SELECT {partition}, __us, __spine_row, "
        f"{', '.join(picks)} FROM ({union}) WINDOW {windows}"
    )
    names = ", ".join(ident(internal[a.name]) for a in aggregates)
    on = " AND ".join(f"s.{ident(k)} = w.__k{i}" for i, k in enumerate(entity))
    return (
        f"(SELECT __spine_row, {names} FROM {win} WHERE __spine_row IS NOT NULL UNION ALL "
        f"SELECT s.__spine_row, {', '.join('w.' + ident(internal[a.name]) for a in aggregates)} "
        f"FROM spine s ASOF JOIN (SELECT * FROM {win} WHERE __spine_row IS NULL) w "
        f"ON {on} AND s.__spine_us >= w.__us WHERE w.__us = s.__spine_us)"
    )
