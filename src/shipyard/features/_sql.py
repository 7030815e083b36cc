"""SQL pieces of the offline engine: a group's events, and its windowed aggregates."""

from __future__ import annotations

from collections.abc import Sequence

from shipyard.features._spec import Aggregate, FeatureGroup

__all__ = ["aggregate_sql", "events_sql", "ident"]

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


def events_sql(
    files: Sequence[str],
    group: FeatureGroup,
    keys: Sequence[str],
    columns: Sequence[str],
    filters: Sequence[str] = (),
) -> str:
    """The group's events in arrival order: its keys, ``columns``, ``__us`` (event time in
    microseconds), ``__key`` (time then arrival, one sortable number) and ``__f{i}`` (each
    filter's truth). ``files`` are the source's files then the log's, oldest first."""
    listed = "[" + ", ".join(_literal(f) for f in files) + "]"
    read = f"read_parquet({listed}, filename=true, file_row_number=true, union_by_name=true)"
    t = ident(group.event_time)
    wanted = dict.fromkeys([*keys, *columns])
    flags = "".join(f", ({f}) AS __f{i}" for i, f in enumerate(filters))
    return (
        f"SELECT {', '.join(ident(c) for c in wanted)}, epoch_us({t}) AS __us, "
        f"epoch_us({t})::HUGEINT * 9223372036854775808 + ({_arrival(files)}) AS __key{flags} "
        f"FROM {read}"
    )


def _aggregate(feature: Aggregate, when: str) -> str:
    column = f"e.{ident(feature.column)}" if feature.column else "e.__us"
    function = feature.function
    if function == "count":
        return f"count({column}) FILTER (WHERE {when})"
    if function == "count_distinct":
        return f"count(DISTINCT {column}) FILTER (WHERE {when})"
    if function == "last":
        return f"arg_max({column}, e.__key) FILTER (WHERE {when} AND {column} IS NOT NULL)"
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
    """Every aggregate of ``aggregates`` per spine row, in one join on the longest window."""
    filters = list(dict.fromkeys(a.filter for a in aggregates if a.filter))
    columns = [a.column for a in aggregates if a.column]
    events = events_sql(files, group, keys, columns, filters)
    longest = max(a.window_seconds for a in aggregates) * 1_000_000
    on = " AND ".join(f"s.{ident(k)} = e.{ident(sk)}" for k, sk in zip(entity, keys, strict=True))
    picks = []
    for feature in aggregates:
        when = f"e.__us > s.__spine_us - {feature.window_seconds * 1_000_000}"
        if feature.filter:
            when += f" AND e.__f{filters.index(feature.filter)}"
        picks.append(f"{_aggregate(feature, when)} AS {ident(internal[feature.name])}")
    return (
        f"(SELECT s.__spine_row, {', '.join(picks)} FROM spine s LEFT JOIN ({events}) e "
        f"ON {on} AND e.__us > s.__spine_us - {longest} AND e.__us <= s.__spine_us "
        "GROUP BY s.__spine_row)"
    )
