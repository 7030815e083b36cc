"""Online reads: feature values of entities now (or at a given instant), exact at read time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shipyard.errors import InvalidInput, require_columns
from shipyard.features._plan import Plan
from shipyard.features._read import read_state
from shipyard.features._resolve import group_plan, parse_refs, to_micros
from shipyard.features._state import Meta, load_meta

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from shipyard.online import OnlineStore
    from shipyard.project import Project

__all__ = ["OnlineFeatures", "entity_key", "get_online_features", "read_plan"]

EntityRows = Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]]


@dataclass
class OnlineFeatures:
    """Feature values per entity row, and which rows had no state in which group.

    Attributes:
        columns: The entity key columns, then each feature, one value per entity row.
        missing: Group name -> indices of the entity rows the online store does not know
            (their aggregates read as over an empty window: counts 0, others null).
    """

    columns: dict[str, list[Any]]
    missing: dict[str, list[int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, list[Any]]:
        return dict(self.columns)

    def to_arrow(self) -> pa.Table:
        import pyarrow as pa

        return pa.table(self.columns)

    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.columns)

    def row(self, index: int = 0) -> dict[str, Any]:
        """The values of one entity row as a dict."""
        return {name: values[index] for name, values in self.columns.items()}


def _columns_of(entity_rows: Any) -> dict[str, list[Any]]:
    if hasattr(entity_rows, "to_pydict"):
        return dict(entity_rows.to_pydict())
    if hasattr(entity_rows, "to_dict") and hasattr(entity_rows, "columns"):
        return {str(k): list(v) for k, v in entity_rows.to_dict(orient="list").items()}
    if isinstance(entity_rows, Mapping):
        return {str(k): list(v) for k, v in entity_rows.items()}
    rows = list(entity_rows)
    if not all(isinstance(r, Mapping) for r in rows):
        raise InvalidInput(
            "The 'entity_rows' parameter must be a list of dicts, a dict of lists, a pandas "
            f"DataFrame or an Arrow table. Got {type(entity_rows).__name__} instead."
        )
    names = list(dict.fromkeys(k for r in rows for k in r))
    return {k: [r.get(k) for r in rows] for k in names}


def entity_key(values: Sequence[Any]) -> str:
    """The store key of one entity: its key values as DuckDB casts them to text."""
    return "\x1f".join(_text(v) for v in values)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_META: dict[tuple[str, str], Meta] = {}


def _meta(store: OnlineStore, plan: Plan) -> Meta | None:
    cached = _META.get((store.url, plan.table))
    if cached is None:
        cached = load_meta(store, plan)
        if cached is not None:
            _META[(store.url, plan.table)] = cached
    return cached


def read_plan(
    store: OnlineStore,
    plan: Plan,
    keys: Sequence[str],
    at_us: int,
    wanted: frozenset[str] | None = None,
) -> tuple[list[dict[str, Any]], list[int]]:
    """Feature values of each key of one group, and the indices of keys with no state."""
    blobs = store.get(plan.table, keys) if keys else []
    meta = _meta(store, plan)
    values = [read_state(plan, meta, blob, at_us, store, wanted) for blob in blobs]
    return values, [i for i, blob in enumerate(blobs) if blob is None]


def get_online_features(
    project: Project,
    entity_rows: EntityRows | pd.DataFrame | pa.Table,
    features: Sequence[str] | str,
    at: datetime | str | None = None,
) -> OnlineFeatures:
    """The online values of ``features`` for each entity row, windows ending at ``at``.

    Args:
        project: The project whose online store to read.
        entity_rows: The entity key columns (list of dicts, dict of lists, DataFrame, Arrow).
        features: ``"GROUP"`` (all its features) or ``"GROUP:feature,..."``, one or more.
        at: The instant the windows end at (default: now). Column values are the latest
            written; reading far in the past (before the allowed lateness) is not exact.

    Raises:
        NotFound: An unknown group or feature (with a did-you-mean).
        InvalidInput: The rows lack a key column of a group's entity.
        BackendUnavailable: The online store cannot be reached.

    An entity the store does not know is not an error: its values are those of an empty
    state (counts 0, other features null) and its row index is listed in ``missing``.
    """
    columns = _columns_of(entity_rows)
    count = len(next(iter(columns.values()), []))
    at_us = to_micros(at)
    out: dict[str, list[Any]] = {}
    missing: dict[str, list[int]] = {}
    for name, picked in parse_refs(features):
        plan = group_plan(project, name)
        selected = [f.name for f in plan.group.select(picked)]
        require_columns(plan.keys, list(columns), role="entity key")
        for key in plan.keys:
            out.setdefault(key, columns[key])
        keys = [entity_key(row) for row in zip(*(columns[k] for k in plan.keys), strict=True)]
        wanted = None if picked is None or plan.derived else frozenset(selected)
        values, absent = read_plan(project.online, plan, keys, at_us, wanted)
        if absent:
            missing[name] = absent
        for feature in selected:
            if feature in out:
                raise InvalidInput(
                    f"Feature '{feature}' is asked twice (or is also a key column); ask each "
                    "feature once."
                )
            out[feature] = [v[feature] for v in values] if count else []
    return OnlineFeatures(out, missing)


def online_values(
    project: Project, ref: str, entity: Sequence[str], at: datetime | str | None = None
) -> tuple[dict[str, Any], bool]:
    """One entity's values of ``ref`` (``GROUP`` or ``GROUP:f,..``) given its key values in
    order, and whether the store lacks it.

    Raises:
        InvalidInput: Not one value per key column of the group's entity.
    """
    plan = group_plan(project, parse_refs(ref)[0][0])
    if len(entity) != len(plan.keys):
        raise InvalidInput(
            f"Group '{plan.group.name}' is keyed by {', '.join(plan.keys)}: give one --entity "
            f"per key column, in that order. Got {len(entity)} instead."
        )
    got = get_online_features(
        project, {k: [v] for k, v in zip(plan.keys, entity, strict=True)}, ref, at
    )
    return got.row(0), bool(got.missing)
