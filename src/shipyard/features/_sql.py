"""SQL pieces of the offline engine: a group's events, and its windowed aggregates."""

from __future__ import annotations

from collections.abc import Sequence

from shipyard.features._spec import Aggregate, FeatureGroup

__all__ = ["aggregate_expr", "aggregate_sql", "arrival_sql", "events_sql", "ident", "read_sql"]

_ORD_BITS = 40  # rows per file below 2**40; the file's index sits above them
_CASE_FILES = 16


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _arrival(files: Sequence[str]) -> str:
    """SQL of an event's arrival rank: its file's index, then its row in the file."""
    if len(files) == 1:
        return "file_row_number"
    if len(files) <= _CASE_FILES:
        cases = " ".join(f"WHEN {_literal(f)} THEN {i}" for i, f in enumerate(files))
        index = f"(CASE filename {cases} END)"
    else:
        index = f"(list_position([{', '.join(_literal(f) for f in files)}], filename) - 1)"
    return f"({index}::BIGINT << {_ORD_BITS}) + file_row_number"


def read_sql(files: Sequence[str], arrival: bool) -> str:
    """``read_parquet`` of ``files``; the file name and row number only when ``arrival``."""
    listed = "[" + ", ".join(_literal(f) for f in files) + "]"
    options = ", filename=true, file_row_number=true" if arrival else ""
    if len(files) > 1:
        options += ", union_by_name=true"
    return f"read_parquet({listed}{options})"


def arrival_sql(files: Sequence[str]) -> str:
    """SQL of an event's arrival rank (a BIGINT that names its row) over ``read_sql``."""
    return _arrival(files)


def events_sql(
    files: Sequence[str],
    group: FeatureGroup,
    keys: Sequence[str],
    columns: Sequence[str],
    filters: Sequence[str] = (),
    *,
    arrival: bool = True,
    rank: bool = False,
) -> str:
    """The group's events: its keys, ``columns``, ``__us`` (event time in microseconds),
    ``__key`` (time then arrival, one sortable number; only with ``arrival``), ``__arr`` (the
    arrival rank alone, which names the row; only with ``rank``) and ``__f{i}`` (each
    filter's truth). ``files`` are the source's files then the log's, oldest first.

    Reading the arrival order (file names and row numbers) and building the key costs; ask
    for it only when ties between equal event times must be broken.
    """
    t = ident(group.event_time)
    wanted = dict.fromkeys([*keys, *columns])
    flags = "".join(f", ({f}) AS __f{i}" for i, f in enumerate(filters))
    key = (
        f", epoch_us({t})::HUGEINT * 9223372036854775808 + ({_arrival(files)}) AS __key"
        if arrival
        else ""
    )
    if rank:
        key += f", {_arrival(files)} AS __arr"
    return (
        f"SELECT {', '.join(ident(c) for c in wanted)}, epoch_us({t}) AS __us{key}{flags} "
        f"FROM {read_sql(files, arrival or rank)}"
    )


def aggregate_expr(feature: Aggregate, when: str, table: str = "e.") -> str:
    """One aggregate over the events of ``table`` (a prefix) for which ``when`` holds."""
    column = f"{table}{ident(feature.column)}" if feature.column else f"{table}__us"
    function = feature.function
    if function == "count":
        return f"count({column}) FILTER (WHERE {when})"
    if function == "count_distinct":
        return f"count(DISTINCT {column}) FILTER (WHERE {when})"
    if function == "last":
        return f"arg_max({column}, {table}__key) FILTER (WHERE {when} AND {column} IS NOT NULL)"
    if function in ("min", "max"):
        return f"{function}({column}) FILTER (WHERE {when})"
    sql = {"sum": "sum", "mean": "avg", "stddev": "stddev_samp"}[function]
    return f"{sql}({column}::DOUBLE) FILTER (WHERE {when})"


def aggregate_sql(
    files: Sequence[str],
    group: FeatureGroup,
    keys: Sequence[str],
    entity: Sequence[str],
    aggregates: Sequence[Aggregate],
    internal: dict[str, str],
) -> str:
    """Every aggregate of ``aggregates`` per spine row, in one join on the longest window.

    The join holds, per spine row, every event of its entity in the longest window: cheap for
    sparse spines, quadratic per entity when the spine is as dense as the events (then
    :func:`shipyard.features._window.window_table` is the one to use)."""
    filters = list(dict.fromkeys(a.filter for a in aggregates if a.filter))
    columns = [a.column for a in aggregates if a.column]
    arrival = any(a.function == "last" for a in aggregates)
    events = events_sql(files, group, keys, columns, filters, arrival=arrival)
    longest = max(a.window_seconds for a in aggregates) * 1_000_000
    on = " AND ".join(f"s.{ident(k)} = e.{ident(sk)}" for k, sk in zip(entity, keys, strict=True))
    picks = []
    for feature in aggregates:
        when = f"e.__us > s.__spine_us - {feature.window_seconds * 1_000_000}"
        if feature.filter:
            when += f" AND e.__f{filters.index(feature.filter)}"
        picks.append(f"{aggregate_expr(feature, when)} AS {ident(internal[feature.name])}")
    return (
        f"(SELECT s.__spine_row, {', '.join(picks)} FROM spine s LEFT JOIN ({events}) e "
        f"ON {on} AND e.__us > s.__spine_us - {longest} AND e.__us <= s.__spine_us "
        "GROUP BY s.__spine_row)"
    )
