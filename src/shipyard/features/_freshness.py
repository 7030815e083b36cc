"""How fresh a feature group's data is: the newest event time of its source and its pushed
event log, and how far behind now that is (one DuckDB pass, no row in Python)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from shipyard.errors import InvalidInput
from shipyard.features._log import log_files
from shipyard.features._resolve import group_plan
from shipyard.lake import quote_ident

if TYPE_CHECKING:
    from shipyard.project import Project

__all__ = ["Freshness", "group_freshness"]


@dataclass(frozen=True)
class Freshness:
    """A group's events: the source version read, how many events (source plus pushed log
    files), the newest event time, and its age in seconds at ``checked_at`` (None without
    events)."""

    group: str
    source: str
    log_files: int
    events: int
    newest_event: datetime | None
    checked_at: datetime
    age_seconds: float | None


def group_freshness(project: Project, group: str, *, now: datetime | None = None) -> Freshness:
    """The newest event of feature group ``group`` and how old it is.

    Raises:
        NotFound: No such group (with a did-you-mean), or its source dataset is gone.
    """
    import duckdb

    plan = group_plan(project, group, fresh=True)
    version = project.catalog.get_dataset_version(plan.group.source)
    logs = log_files(project, plan.group.name)
    files = [*project.lake.files(version), *logs]
    listed = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
    t = quote_ident(plan.group.event_time)
    try:
        with duckdb.connect() as con:
            ((count, newest_us),) = con.sql(
                f"SELECT count(*), max(epoch_us({t})) "
                f"FROM read_parquet({listed}, union_by_name=true)"
            ).fetchall()
    except duckdb.Error as exc:  # a stored group its source no longer fits
        raise InvalidInput(
            f"Group {plan.group.ref} cannot read its event time {plan.group.event_time!r} from "
            f"{version.ref}: {str(exc).splitlines()[0]}",
            details={"group": plan.group.ref, "source": version.ref},
        ) from None
    checked = now or datetime.now(UTC)
    newest = datetime.fromtimestamp(newest_us / 1e6, tz=UTC) if newest_us is not None else None
    age = (checked - newest).total_seconds() if newest is not None else None
    return Freshness(plan.group.ref, version.ref, len(logs), int(count), newest, checked, age)
