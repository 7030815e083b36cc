"""Skew check: online values against the offline engine at the same instant."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shipyard.features._log import log_files
from shipyard.features._offline import historical_features
from shipyard.features._online import entity_key, read_plan
from shipyard.features._resolve import group_plan, to_micros
from shipyard.lake import quote_ident

if TYPE_CHECKING:
    from shipyard.project import Project

__all__ = ["SkewReport", "check_skew"]

REL_TOL = 1e-9
ABS_TOL = 1e-9


@dataclass
class SkewReport:
    """Online against offline for sampled entities of one group at one instant.

    Attributes:
        group: ``name:version``.
        at: The instant both sides were read at.
        entities: How many entities were compared.
        features: How many features per entity.
        mismatches: ``{"entity", "feature", "online", "offline"}`` for each value that
            differs beyond float tolerance (first 100).
        mismatch_count: How many values differed in all.
        missing_online: Sampled entities the online store does not know.
    """

    group: str
    at: datetime
    entities: int
    features: int
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    mismatch_count: int = 0
    missing_online: int = 0

    @property
    def ok(self) -> bool:
        return self.mismatch_count == 0 and self.missing_online == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "at": self.at.isoformat(),
            "entities": self.entities,
            "features": self.features,
            "ok": self.ok,
            "mismatch_count": self.mismatch_count,
            "missing_online": self.missing_online,
            "mismatches": self.mismatches,
        }


def same(a: Any, b: Any) -> bool:
    """Equal, nulls equal nulls, numbers to float tolerance (NaN is null, as online)."""
    a = None if isinstance(a, float) and math.isnan(a) else a
    b = None if isinstance(b, float) and math.isnan(b) else b
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=REL_TOL, abs_tol=ABS_TOL)
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a.replace(tzinfo=None) == b.replace(tzinfo=None)
    return bool(a == b)


def _sample(project: Project, plan: Any, sample: int, seed: int) -> tuple[Any, int]:
    """Up to ``sample`` distinct entity keys of the group's events, and the newest time."""
    import duckdb

    version = project.catalog.get_dataset_version(plan.group.source)
    files = [*project.lake.files(version), *log_files(project, plan.group.name)]
    listed = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
    read = f"read_parquet({listed}, union_by_name=true)"
    keys = ", ".join(quote_ident(k) for k in plan.keys)
    t = quote_ident(plan.group.event_time)
    with duckdb.connect() as con:
        ((newest,),) = con.sql(f"SELECT max(epoch_us({t})) FROM {read}").fetchall()
        table = con.sql(
            f"SELECT DISTINCT {keys} FROM {read} WHERE {t} IS NOT NULL "
            f"ORDER BY hash({keys}, {int(seed)}) LIMIT {int(sample)}"
        ).to_arrow_table()
    return table, int(newest or 0)


def check_skew(
    project: Project,
    group: str,
    sample: int = 1000,
    *,
    at: datetime | str | None = None,
    seed: int = 0,
) -> SkewReport:
    """Compare online values with :func:`historical_features` for sampled entities.

    Both sides are read at ``at`` (default: the group's newest event time, the instant at
    which every window still holds events), and must agree to float tolerance.

    Raises:
        NotFound: No such group.
        BackendUnavailable: The online store cannot be reached.
    """
    import pyarrow as pa

    plan = group_plan(project, group, fresh=True)
    keys_table, newest = _sample(project, plan, sample, seed)
    at_us = to_micros(at) if at is not None else newest
    instant = datetime.fromtimestamp(at_us / 1e6, tz=UTC).replace(tzinfo=None)
    names = list(plan.names)
    report = SkewReport(plan.group.ref, instant, keys_table.num_rows, len(names))
    if keys_table.num_rows == 0:
        return report
    spine = keys_table.append_column(
        "__at", pa.array([instant] * keys_table.num_rows, pa.timestamp("us"))
    )
    offline = historical_features(
        project, spine, entity=list(plan.keys), time="__at", features=[plan.group.name]
    ).to_pydict()
    rows = list(zip(*(keys_table.column(k).to_pylist() for k in plan.keys), strict=True))
    online, absent = read_plan(project.online, plan, [entity_key(r) for r in rows], at_us)
    report.missing_online = len(absent)
    for i, row in enumerate(rows):
        for name in names:
            on, off = online[i][name], offline[name][i]
            if not same(on, off):
                report.mismatch_count += 1
                if len(report.mismatches) < 100:
                    report.mismatches.append(
                        {"entity": entity_key(row), "feature": name, "online": on, "offline": off}
                    )
    return report
