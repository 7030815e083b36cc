"""Point-in-time feature values for a spine of (entity, time) rows, in DuckDB.

Per selected group, one query over its events (the source dataset's latest version, then the
group's pushed-event log): column features by an ``ASOF JOIN`` on the event time, redone on a
key that orders events by time and then by arrival (so among equal timestamps the later row
wins) only when a matched event's time is tied; and every windowed aggregate of the group in
one join on ``(T - longest window, T]`` with one ``FILTER`` per aggregate, or, when the spine
is dense, by window functions (:mod:`shipyard.features._window`). Derived features are
computed last with their SQL compilation. See :mod:`shipyard.features._spec` for the semantics.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shipyard.entities import DatasetVersion
from shipyard.errors import InvalidInput
from shipyard.features._expr import parse_expression
from shipyard.features._log import log_files
from shipyard.features._spec import Aggregate, Column, Derived, Feature, FeatureGroup
from shipyard.features._sql import aggregate_sql, arrival_sql, events_sql, ident, read_sql
from shipyard.features._store import get_entity, get_group, source_columns
from shipyard.features._validate import is_timestamp
from shipyard.features._window import (
    STRATEGIES,
    Strategy,
    choose_strategy,
    register_spine_keys,
    window_table,
)

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from shipyard.project import Project

__all__ = ["Selection", "historical_features", "parse_feature_refs"]

_ROW = "__spine_row"
_US = "__spine_us"


@dataclass
class Selection:
    """One group and the features asked of it (and what derived ones need)."""

    group: FeatureGroup
    asked: list[Feature] = field(default_factory=list)
    keys: tuple[str, ...] = ()
    source: DatasetVersion | None = None

    @property
    def needed(self) -> list[Feature]:
        """The asked features plus the inputs of asked derived features, in group order."""
        names = {f.name for f in self.asked}
        for feature in self.asked:
            if isinstance(feature, Derived):
                names.update(parse_expression(feature.expression).names)
        return [f for f in self.group.features if f.name in names]


def parse_feature_refs(project: Project, features: Sequence[str] | str) -> list[Selection]:
    """``GROUP`` (all its features) or ``GROUP:f1,f2`` refs, merged per group in order.

    Raises:
        NotFound: An unknown group or feature (with a did-you-mean).
        InvalidInput: No features were asked for.
    """
    refs = [features] if isinstance(features, str) else list(features)
    if not refs:
        raise InvalidInput("Ask for at least one feature: GROUP or GROUP:feature,feature.")
    selections: dict[str, Selection] = {}
    for ref in refs:
        name, _, wanted = str(ref).partition(":")
        name = name.strip()
        if name not in selections:
            selections[name] = Selection(get_group(project, name))
        selection = selections[name]
        names = [w.strip() for w in wanted.split(",") if w.strip()]
        for feature in selection.group.select(names):
            if feature not in selection.asked:
                selection.asked.append(feature)
    return list(selections.values())


def _spine_table(project: Project, spine: pa.Table | str) -> pa.Table:
    import pyarrow as pa

    if isinstance(spine, pa.Table):
        return spine
    if hasattr(spine, "to_arrow") or type(spine).__name__ == "DataFrame":
        return pa.Table.from_pandas(spine, preserve_index=False)
    if not isinstance(spine, str):
        raise InvalidInput(
            "The spine of historical_features must be a pyarrow Table, a pandas DataFrame or a "
            f"dataset name. Got {type(spine).__name__} instead."
        )
    import duckdb

    from shipyard.catalog.refs import parse_dataset_ref
    from shipyard.lake import quote_literal

    ref = parse_dataset_ref(spine)
    version = project.catalog.get_dataset_version(ref.name, ref.version)
    project.lake.files(version)
    con = duckdb.connect()
    try:
        glob = quote_literal(project.lake.glob(version))
        return con.sql(f"SELECT * FROM read_parquet('{glob}')").arrow().read_all()
    finally:
        con.close()


def _check_spine(table: pa.Table, entity: Sequence[str], time: str) -> None:
    from shipyard.errors import require_columns

    names = table.column_names
    require_columns(entity, names, role="spine entity")
    require_columns([time], names, role="spine time")
    kind = str(table.schema.field(time).type)
    if not kind.startswith("timestamp"):
        raise InvalidInput(
            f"The spine's time column '{time}' is {kind}, not a timestamp. Cast it first "
            f"(e.g. `CAST({time} AS TIMESTAMP)` in `shipyard ingest --sql`)."
        )


def _bind(project: Project, selections: list[Selection], entity: Sequence[str]) -> None:
    for selection in selections:
        group = selection.group
        keys = get_entity(project, group.entity).keys
        if len(keys) != len(entity):
            raise InvalidInput(
                f"Feature group '{group.name}' is keyed by {len(keys)} column(s) "
                f"({', '.join(keys)}), but the spine's entity has {len(entity)} "
                f"({', '.join(entity)}). Give one spine column per key, in that order."
            )
        selection.keys = keys
        version, columns = source_columns(project, group)
        if not is_timestamp(columns.get(group.event_time, "")):
            raise InvalidInput(
                f"The event_time '{group.event_time}' of group '{group.name}' is not a timestamp "
                f"in {version.ref}. Apply the group again to see why."
            )
        selection.source = version


def _output_names(
    selections: list[Selection], spine_columns: Sequence[str]
) -> dict[tuple[int, str], str]:
    """Output column per (selection index, feature) — plain names unless two clash."""
    counts: dict[str, int] = {}
    for selection in selections:
        for feature in selection.asked:
            counts[feature.name] = counts.get(feature.name, 0) + 1
    names = {}
    for i, selection in enumerate(selections):
        for feature in selection.asked:
            clash = counts[feature.name] > 1 or feature.name in spine_columns
            names[(i, feature.name)] = (
                f"{selection.group.name}__{feature.name}" if clash else feature.name
            )
    return names


def _tied(
    con: duckdb.DuckDBPyConnection, files: list[str], selection: Selection, table: str
) -> bool:
    """Whether an event matched in ``table`` shares its entity and time with another event
    (then the later arrival must win, and plain time order cannot tell which)."""
    keys = selection.keys
    events = events_sql(files, selection.group, keys, (), arrival=False)
    matched = ", ".join(f"__k{i}" for i in range(len(keys)))
    on = " AND ".join(f"e.{ident(k)} = m.__k{i}" for i, k in enumerate(keys))
    row = con.execute(
        f"WITH m AS (SELECT DISTINCT {matched}, __m_us FROM {table} WHERE __m_us IS NOT NULL) "
        f"SELECT (SELECT count(*) FROM ({events}) e SEMI JOIN m ON {on} AND e.__us = m.__m_us) "
        "> (SELECT count(*) FROM m)"
    ).fetchall()
    return bool(row[0][0])


def _columns_table(
    con: duckdb.DuckDBPyConnection,
    files: list[str],
    index: int,
    selection: Selection,
    entity: Sequence[str],
    internal: dict[str, str],
) -> str:
    """Column features per spine row, by an ``ASOF JOIN`` that sorts only the events' keys,
    times and arrival ranks; the columns are then read for the matched rows alone.

    The join is on the event time, and again on the (time, arrival) key only when a matched
    event's time is tied (then the later arrival must win)."""
    group = selection.group
    keys = selection.keys
    columns = [f for f in selection.needed if isinstance(f, Column)]
    on = " AND ".join(f"s.{ident(k)} = e.{ident(sk)}" for k, sk in zip(entity, keys, strict=True))
    table = f"__match{index}"
    spine_keys = ", ".join(f"s.{ident(k)} AS __k{i}" for i, k in enumerate(entity))
    match = (
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT s.{_ROW}, s.{_US}, {spine_keys}, "
        "e.__us AS __m_us, e.__arr FROM spine s ASOF LEFT JOIN ({events}) e ON {on} AND {cond}"
    )
    events = events_sql(files, group, keys, (), arrival=False, rank=True)
    con.execute(match.format(events=events, on=on, cond=f"s.{_US} >= e.__us"))
    if _tied(con, files, selection, table):
        events = events_sql(files, group, keys, (), rank=True)
        con.execute(match.format(events=events, on=on, cond="s.__spine_key >= e.__key"))
    ttl = f"AND m.{_US} - m.__m_us < {group.ttl * 1_000_000}" if group.ttl else ""
    picks = ", ".join(
        f"CASE WHEN m.__m_us IS NOT NULL {ttl} THEN v.{ident(c.column)} END "
        f"AS {ident(internal[c.name])}"
        for c in columns
    )
    wanted = ", ".join(ident(c) for c in dict.fromkeys(c.column for c in columns))
    values = (
        f"SELECT * FROM (SELECT {arrival_sql(files)} AS __arr, {wanted} "
        f"FROM {read_sql(files, True)}) WHERE __arr IN (SELECT __arr FROM {table})"
    )
    return f"(SELECT m.{_ROW}, {picks} FROM {table} m LEFT JOIN ({values}) v USING (__arr))"


def _group_query(
    con: duckdb.DuckDBPyConnection,
    project: Project,
    index: int,
    selection: Selection,
    entity: Sequence[str],
    strategy: Strategy,
) -> tuple[str, dict[str, str]]:
    """The SQL of one group's features per spine row, and the internal name of each."""
    assert selection.source is not None  # bound by _bind
    files = project.lake.files(selection.source) + log_files(project, selection.group.name)
    group = selection.group
    needed = selection.needed
    internal = {f.name: f"__g{index}_{f.name}" for f in needed}
    aggregates = [f for f in needed if isinstance(f, Aggregate)]
    parts = []
    if any(isinstance(f, Column) for f in needed):
        parts.append(_columns_table(con, files, index, selection, entity, internal))
    if aggregates:
        keys = selection.keys
        chosen = choose_strategy(con, strategy, files, group, keys, entity, aggregates)
        if chosen == "window":
            args = (files, group, keys, entity, aggregates, internal)
            parts.append(window_table(con, index, *args))
        else:
            parts.append(aggregate_sql(files, group, keys, entity, aggregates, internal))
    if not parts:  # derived features of nothing: constants
        parts.append(f"(SELECT {_ROW} FROM spine)")
    joined = parts[0] + " AS p0"
    for n, part in enumerate(parts[1:], start=1):
        joined += f" JOIN {part} AS p{n} USING ({_ROW})"
    return f"SELECT * FROM {joined}", internal


def historical_features(
    project: Project,
    spine: pa.Table | str,
    *,
    entity: Sequence[str] | str,
    time: str,
    features: Sequence[str] | str,
    strategy: Strategy = "auto",
) -> pa.Table:
    """The spine's columns plus each selected feature's value as of the row's time.

    Args:
        project: The project whose groups and datasets are read.
        spine: The rows to compute features for: a pyarrow Table (or pandas DataFrame), or a
            dataset ref (``name`` or ``name@N``).
        entity: The spine column(s) holding the entity key, one per key of each group's entity.
        time: The spine's timestamp column; each row gets the features as of that instant.
        features: ``GROUP`` (all its features) or ``GROUP:f1,f2`` refs.
        strategy: How windowed aggregates are computed, with identical results: ``join``
            (each spine row with its entity's events in the longest window; best for sparse
            spines), ``window`` (window functions over spine rows and events sorted together;
            best when the spine is dense, e.g. the events themselves), or ``auto``: ``window``
            when the estimated join pairs exceed ``WINDOW_OVER_JOIN`` times the sorted rows.

    Returns:
        The spine's rows in their order, its columns, then one column per feature, named by
        the feature (``{group}__{feature}`` when two groups, or a spine column, share a name).

    Raises:
        NotFound: An unknown group, feature, dataset or spine column (with a did-you-mean).
        InvalidInput: The time column is not a timestamp, or the entity does not fit a group.
    """
    import duckdb

    if strategy not in STRATEGIES:
        raise InvalidInput(
            "The 'strategy' parameter of historical_features must be one of "
            f"{', '.join(STRATEGIES)}. Got {strategy!r} instead."
        )
    entity = [entity] if isinstance(entity, str) else list(entity)
    table = _spine_table(project, spine)
    _check_spine(table, entity, time)
    selections = parse_feature_refs(project, features)
    _bind(project, selections, entity)
    out_names = _output_names(selections, table.column_names)
    con = duckdb.connect()
    try:
        _register_spine(con, table, time)
        register_spine_keys(con, entity)
        return _run(con, project, selections, entity, table.column_names, out_names, strategy)
    except duckdb.Error as exc:
        from shipyard.lake import error_text

        raise InvalidInput(f"Computing the features failed: {error_text(exc)}") from exc
    finally:
        con.close()


def _register_spine(con: duckdb.DuckDBPyConnection, table: pa.Table, time: str) -> None:
    import numpy as np
    import pyarrow as pa

    rows = pa.array(np.arange(table.num_rows, dtype=np.int64))
    con.register("spine_in", table.append_column(_ROW, rows))
    t = ident(time)
    # the composite key (time, arrival) of an event is at most this for events at time <= T
    con.execute(
        f"CREATE TEMP TABLE spine AS SELECT *, epoch_us({t}) AS {_US}, "
        f"epoch_us({t})::HUGEINT * 9223372036854775808 + 9223372036854775807 AS __spine_key "
        "FROM spine_in"
    )


def _column_of(index: int, internal: dict[str, str]) -> Callable[[str], str]:
    return lambda name: f"g{index}.{ident(internal[name])}"


def _run(
    con: duckdb.DuckDBPyConnection,
    project: Project,
    selections: list[Selection],
    entity: Sequence[str],
    spine_columns: Sequence[str],
    out_names: dict[tuple[int, str], str],
    strategy: Strategy,
) -> pa.Table:
    selects = [f"spine.{ident(c)}" for c in spine_columns]
    joins = []
    for i, selection in enumerate(selections):
        sql, internal = _group_query(con, project, i, selection, entity, strategy)
        joins.append(f"LEFT JOIN ({sql}) AS g{i} USING ({_ROW})")
        for feature in selection.asked:
            out = ident(out_names[(i, feature.name)])
            if isinstance(feature, Derived):
                value = parse_expression(feature.expression).to_sql(_column_of(i, internal))
            else:
                value = f"g{i}.{ident(internal[feature.name])}"
            selects.append(f"{value} AS {out}")
    sql = f"SELECT {', '.join(selects)} FROM spine {' '.join(joins)} ORDER BY spine.{_ROW}"
    return con.sql(sql).arrow().read_all()
