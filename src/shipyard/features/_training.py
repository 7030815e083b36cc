"""Training sets: a spine's point-in-time features (and labels known by a cut-off) stored as a
new dataset version, with lineage to the group versions and source versions it read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shipyard.entities import DatasetVersion
from shipyard.errors import InvalidInput, require_columns
from shipyard.features._offline import historical_features, parse_feature_refs
from shipyard.features._sql import ident
from shipyard.features._store import source_columns
from shipyard.types import JSON

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from shipyard.project import Project

__all__ = ["LINEAGE_REPORT", "TrainingSet", "inherit_lineage", "training_set"]

LINEAGE_REPORT = "features.lineage"
"""The report kind, about the output dataset version, that holds a training set's lineage."""


@dataclass(frozen=True)
class TrainingSet:
    """The dataset version a training set became, and what went into it.

    ``labels_used`` rows carry a label known by the cut-off; ``labels_unknown`` rows had none
    (confirmed after it, or no label row): they got ``label_default``, or were dropped
    (``rows_dropped``).
    """

    version: DatasetVersion
    unchanged: bool
    rows: int
    labels_used: int
    labels_unknown: int
    rows_dropped: int
    lineage: JSON


def _label_rows(
    con: duckdb.DuckDBPyConnection,
    project: Project,
    labels: str,
    label: str,
    join: Sequence[str],
    confirmed_at: str,
    known_by: datetime | str | None,
) -> tuple[str, DatasetVersion]:
    from shipyard.catalog.refs import parse_dataset_ref
    from shipyard.lake import quote_literal

    ref = parse_dataset_ref(labels)
    version = project.catalog.get_dataset_version(ref.name, ref.version)
    columns = [c.name for c in version.columns]
    require_columns([*join, label], columns, role="labels")
    known = "TRUE"
    if known_by is not None:
        require_columns([confirmed_at], columns, role="labels confirmed-at")
        cutoff = known_by.isoformat() if isinstance(known_by, datetime) else str(known_by)
        known = f"coalesce({ident(confirmed_at)} <= TIMESTAMP {_literal(cutoff)}, FALSE)"
    keys = ", ".join(ident(c) for c in join)
    glob = quote_literal(project.lake.glob(version))
    con.execute(
        f"CREATE TEMP TABLE labels AS SELECT {keys}, {ident(label)} AS __label FROM "
        f"(SELECT *, {known} AS __known FROM read_parquet('{glob}')) WHERE __known "
        f"QUALIFY row_number() OVER (PARTITION BY {keys}) = 1"
    )
    return keys, version


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _with_labels(
    con: duckdb.DuckDBPyConnection, features: pa.Table, label: str, keys: str, default: Any
) -> tuple[str, int, int, int]:
    con.register("features_in", features)
    if label in features.column_names:
        raise InvalidInput(f"The spine already has a column '{label}'; the label would clash.")
    join = " AND ".join(f"f.{k} IS NOT DISTINCT FROM l.{k}" for k in keys.split(", "))
    con.execute(
        "CREATE TEMP TABLE joined AS SELECT f.*, l.__label, l.__label IS NOT NULL AS __has "
        f"FROM features_in f LEFT JOIN labels l ON {join}"
    )
    used, unknown = con.execute(
        "SELECT count(*) FILTER (WHERE __has), count(*) FILTER (WHERE NOT __has) FROM joined"
    ).fetchone()  # type: ignore[misc]
    if default is None:
        value, where, dropped = "__label", "WHERE __has", unknown
    else:
        value, where, dropped = f"coalesce(__label, {_sql_value(default)})", "", 0
    sql = f"SELECT * EXCLUDE (__label, __has), {value} AS {ident(label)} FROM joined {where}"
    return sql, int(used), int(unknown), int(dropped)


def _sql_value(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidInput(f"The label default must be a number or a text. Got {value!r}.")
    return _literal(value) if isinstance(value, str) else repr(value)


def training_set(
    project: Project,
    *,
    spine: pa.Table | str,
    entity: Sequence[str] | str,
    time: str,
    features: Sequence[str] | str,
    name: str,
    labels: str | None = None,
    label: str | None = None,
    label_join: Sequence[str] | None = None,
    confirmed_at: str = "confirmed_at",
    labels_known_by: datetime | str | None = None,
    label_default: Any = None,
) -> TrainingSet:
    """Compute the spine's features as of each row's time and store them as ``name@N``.

    With ``labels`` (a dataset) and ``label`` (its column), each row gets the label joined on
    ``label_join`` (default: the entity and time columns). A label whose ``confirmed_at`` is
    after ``labels_known_by`` (or null) is not known then: the row gets ``label_default``, or
    is dropped when there is none. The output version is written atomically and its lineage
    (group versions and source versions) is stored as a ``features.lineage`` report.

    Raises:
        NotFound: An unknown dataset, group, feature or column (with a did-you-mean).
        InvalidInput: A bad name, time column, label option, or an empty result.
    """
    import duckdb

    from shipyard.ingest import validate_name
    from shipyard.lake import publish_staged, quote_literal

    validate_name(name)
    if (labels is None) != (label is None):
        raise InvalidInput("Give both --labels DATASET and --label COLUMN, or neither.")
    entity = [entity] if isinstance(entity, str) else list(entity)
    table = historical_features(project, spine, entity=entity, time=time, features=features)
    lineage = _lineage(project, spine, features, table.column_names, entity, time)
    con = duckdb.connect()
    try:
        used = unknown = dropped = 0
        sql = "SELECT * FROM features_in"
        if labels is not None and label is not None:
            keys, labels_version = _label_rows(
                con, project, labels, label, list(label_join or [*entity, time]), confirmed_at,
                labels_known_by,
            )  # fmt: skip
            lineage["labels"] = labels_version.ref
            lineage["labels_known_by"] = None if labels_known_by is None else str(labels_known_by)
            sql, used, unknown, dropped = _with_labels(con, table, label, keys, label_default)
        else:
            con.register("features_in", table)
        with project.lake.staging() as staged:
            con.execute(
                f"COPY ({sql}) TO '{quote_literal(str(staged / 'part-0.parquet'))}' "
                "(FORMAT parquet, COMPRESSION zstd)"
            )
            published = publish_staged(
                project.catalog, project.lake, staged, name,
                source=_source_text(lineage), actor=project.actor,
            )  # fmt: skip
    finally:
        con.close()
    version = published.version
    project.catalog.put_report(version.ref, LINEAGE_REPORT, lineage, html_uri=None,
                               actor=project.actor)  # fmt: skip
    return TrainingSet(
        version, published.unchanged, version.num_rows, used, unknown, dropped, lineage
    )


def inherit_lineage(project: Project, source: str, target: str) -> None:
    """Give dataset version ``target``, derived from training set ``source`` with its
    feature columns unchanged (a column added, rows filtered), the lineage of ``source``:
    a model trained on ``target`` is then served from the same feature groups.

    Raises:
        NotFound: ``source`` is not a training set (it has no lineage), or no ``target``.
    """
    from shipyard.catalog.refs import parse_dataset_ref

    ref = parse_dataset_ref(target)
    version = project.catalog.get_dataset_version(ref.name, ref.version)
    lineage = dict(project.catalog.get_report(source, LINEAGE_REPORT).payload)
    lineage["derived_from"] = source
    project.catalog.put_report(version.ref, LINEAGE_REPORT, lineage, html_uri=None,
                               actor=project.actor)  # fmt: skip


def _lineage(
    project: Project,
    spine: object,
    features: Sequence[str] | str,
    out_columns: Sequence[str],
    entity: Sequence[str],
    time: str,
) -> dict[str, Any]:
    """Where each feature column came from: group version, feature, output column name.

    The output columns are the last of ``out_columns``, in the order the features were
    asked (see :func:`historical_features`), which names each one.
    """
    selections = parse_feature_refs(project, features)
    count = sum(len(s.asked) for s in selections)
    names = iter(list(out_columns)[len(out_columns) - count :])
    groups = []
    for selection in selections:
        source, _ = source_columns(project, selection.group)
        asked = [f.name for f in selection.asked]
        groups.append(
            {
                "group": selection.group.ref,
                "name": selection.group.name,
                "version": selection.group.version,
                "features": asked,
                "columns": {feature: next(names) for feature in asked},
                "source": source.ref,
            }
        )
    spine_ref = spine if isinstance(spine, str) else "(in memory)"
    return {"spine": spine_ref, "entity": list(entity), "time": time, "groups": groups}


def _source_text(lineage: dict[str, Any]) -> str:
    groups = ", ".join(f"{g['group']} ({g['source']})" for g in lineage["groups"])
    labels = f", labels {lineage['labels']}" if "labels" in lineage else ""
    return f"features: spine {lineage['spine']}, {groups}{labels}"
