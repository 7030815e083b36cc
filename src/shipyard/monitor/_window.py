"""One window of captured rows, written once as a Parquet file every check reads, and the
labels that have arrived for it (joined by request id, or by entity and time)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from shipyard.capture import BASE_FIELDS, capture_relation
from shipyard.entities import ModelVersion, Monitor
from shipyard.errors import InvalidInput, NotFound, did_you_mean
from shipyard.lake import quote_ident, quote_literal
from shipyard.project import Project

BASE_COLUMNS = tuple(f.name for f in BASE_FIELDS)


@dataclass
class Window:
    """The captured rows of one model version in ``[start, end)``, as one Parquet file."""

    project: Project
    monitor: Monitor
    version: ModelVersion
    baseline: dict[str, Any]
    start: datetime
    end: datetime
    path: Path | None  # None when nothing was captured
    rows: int
    columns: tuple[str, ...]
    _model: Any = field(default=None, repr=False)

    @property
    def inputs(self) -> list[str]:
        return [c["name"] for c in self.baseline.get("inputs", [])]

    @property
    def model(self) -> Any:
        """The model version, loaded (verified) on first use."""
        if self._model is None:
            from shipyard.registry import load_model

            self._model = load_model(self.project, self.version.ref).model
        return self._model

    def frame(self, columns: list[str] | None = None, limit: int | None = None) -> pd.DataFrame:
        if self.path is None:
            return pd.DataFrame(columns=columns or [])
        cols = ", ".join(quote_ident(c) for c in columns) if columns else "*"
        sql = f"SELECT {cols} FROM read_parquet('{quote_literal(str(self.path))}')"
        if limit is not None:
            sql += f" USING SAMPLE {int(limit)} ROWS (reservoir, 0)"
        return duckdb.connect(":memory:").execute(sql).df()


def open_window(
    project: Project,
    monitor: Monitor,
    version: ModelVersion,
    baseline: dict[str, Any],
    start: datetime,
    end: datetime,
    folder: Path,
) -> Window:
    """Copy the window's captured rows into ``folder/window.parquet`` (one DuckDB pass)."""
    con = duckdb.connect(":memory:")
    try:
        rel = capture_relation(
            con, project.artifacts, version.name, version=version.version, since=start, until=end
        )
        if rel is None:
            return Window(project, monitor, version, baseline, start, end, None, 0, ())
        path = folder / "window.parquet"
        rel.write_parquet(str(path))
        columns = tuple(rel.columns)
        found = con.execute(
            f"SELECT count(*) FROM read_parquet('{quote_literal(str(path))}')"
        ).fetchone()
        n = int(found[0]) if found else 0
    finally:
        con.close()
    return Window(project, monitor, version, baseline, start, end, path if n else None, n, columns)


@dataclass(frozen=True)
class Labelled:
    """The window's rows that have a label, and what could not be matched."""

    frame: pd.DataFrame  # score, prediction, the inputs, and "_label"
    captured: int
    unlabelled: int
    unmatched_labels: int
    labels_dataset: str


def join_labels(window: Window) -> Labelled | None:
    """The window's captured rows joined with the labels known so far (the labels dataset's
    latest version); None when the monitor names no labels or the window is empty.

    ``key`` ``[request_id]`` joins on the request id; ``[ENTITY, TIME]`` joins each label
    to the entity's capture at that time: equal times when the captures carry TIME as an
    input, else the entity's latest capture at or before TIME plus the window (an as-of
    join). ``unmatched_labels`` counts labels whose key matches no captured row of this
    model version at all.

    Raises:
        NotFound: The labels dataset, or its label or key column, does not exist.
    """
    spec = window.monitor.labels
    if not spec or window.path is None:
        return None
    project = window.project
    version = project.catalog.get_dataset_version(spec["dataset"])
    label, key = spec["label"], list(spec["key"])
    files = project.lake.files(version)
    con = duckdb.connect(":memory:")
    try:
        listing = ", ".join(f"'{quote_literal(os.fspath(f))}'" for f in files)
        con.execute(f"CREATE VIEW labels AS SELECT * FROM read_parquet([{listing}])")
        have = [r[0] for r in con.execute("DESCRIBE labels").fetchall()]
        for column in [label, *key]:
            if column not in have:
                raise NotFound(
                    f"The labels dataset {version.ref} has no column '{column}'."
                    f"{did_you_mean(column, have)} Its columns: {', '.join(have)}."
                )
        con.execute(
            f"CREATE VIEW win AS SELECT * FROM read_parquet('{quote_literal(str(window.path))}')"
        )
        _all_captures(con, window)
        on = _join_condition(key, window.columns)
        keep = [
            "request_id",
            "score",
            "prediction",
            *[c for c in window.inputs if c in window.columns],
        ]
        picked = ", ".join(f"win.{quote_ident(c)}" for c in keep)
        frame = con.execute(
            f"SELECT {picked}, labels.{quote_ident(label)} AS _label FROM win {on[0]} labels "
            f"ON {on[1]} WHERE labels.{quote_ident(label)} IS NOT NULL"
        ).df()
        unmatched = con.execute(
            f"SELECT count(*) FROM labels WHERE NOT EXISTS (SELECT 1 FROM allcap "
            f"WHERE {_match_any(key, window.columns)})"
        ).fetchone()
    finally:
        con.close()
    frame = frame.drop_duplicates(subset=["request_id"])
    return Labelled(
        frame,
        window.rows,
        window.rows - len(frame),
        int(unmatched[0]) if unmatched else 0,
        version.ref,
    )


def _all_captures(con: duckdb.DuckDBPyConnection, window: Window) -> None:
    rel = capture_relation(
        con, window.project.artifacts, window.version.name, version=window.version.version
    )
    if rel is None:  # pragma: no cover - the window itself has rows
        con.execute("CREATE VIEW allcap AS SELECT * FROM win")
    else:
        rel.create_view("allcap")


def _join_condition(key: list[str], columns: tuple[str, ...]) -> tuple[str, str]:
    if len(key) == 1:
        k = quote_ident(key[0])
        capture_key = k if key[0] in columns else "request_id"
        return "JOIN", f"CAST(win.{capture_key} AS VARCHAR) = CAST(labels.{k} AS VARCHAR)"
    entity, time = (quote_ident(k) for k in key)
    if key[0] not in columns:
        raise InvalidInput(
            f"Labels join on entity '{key[0]}', but the captured rows have no such column. "
            f"Captured columns: {', '.join(columns)}."
        )
    if key[1] in columns:
        return "JOIN", f"win.{entity} = labels.{entity} AND win.{time} = labels.{time}"
    return (
        "ASOF JOIN",
        f"win.{entity} = labels.{entity} AND win.captured_at >= labels.{time}",
    )


def _match_any(key: list[str], columns: tuple[str, ...]) -> str:
    if len(key) == 1:
        k = quote_ident(key[0])
        capture_key = k if key[0] in columns else "request_id"
        return f"CAST(allcap.{capture_key} AS VARCHAR) = CAST(labels.{k} AS VARCHAR)"
    return f"allcap.{quote_ident(key[0])} = labels.{quote_ident(key[0])}"


def encode_labels(values: pd.Series, problem_type: str, positive: Any, classes: Any) -> np.ndarray:
    """Labels as the evaluation encodes targets: 0/1 (binary, matched as text), class index
    (multiclass) or the value (regression)."""
    if problem_type == "binary":
        return (values.astype(str) == str(positive)).to_numpy(dtype=np.float64)
    if problem_type == "multiclass":
        lookup = {str(c): i for i, c in enumerate(classes or [])}
        return values.astype(str).map(lookup).to_numpy(dtype=np.float64)
    return values.to_numpy(dtype=np.float64)
