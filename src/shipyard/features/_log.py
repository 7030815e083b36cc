"""The offline event log: events pushed or streamed to a group after its source was ingested.

The online path appends every event it applies here, and the offline engine reads the source
dataset's files followed by these parts, so offline equals online. Parts live under
``.shipyard/feature_log/<group>/`` (not in the lake, whose garbage collector removes folders
the catalog does not name). Each part is written to a temporary file and renamed into place,
so a reader never sees half a part; parts sort by the time they were written, which is the
order that breaks ties between events with equal timestamps (the later part wins).
"""

from __future__ import annotations

import itertools
import os
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

    from shipyard.project import Project

__all__ = ["append_log", "log_dir", "log_files"]

_counter = itertools.count()


def log_dir(project: Project, group_name: str) -> Path:
    """The folder holding the log parts of ``group_name``."""
    return project.dir / "feature_log" / group_name


def append_log(project: Project, group_name: str, table: pa.Table) -> int:
    """Append ``table``'s rows to the group's log as one Parquet part; returns the row count.

    An empty table writes nothing. The part appears whole or not at all.
    """
    import pyarrow.parquet as pq

    if table.num_rows == 0:
        return 0
    folder = log_dir(project, group_name)
    folder.mkdir(parents=True, exist_ok=True)
    # time_ns then a per-process counter: names sort in the order the parts were appended
    stem = f"part-{time.time_ns():020d}-{next(_counter):08d}-{uuid.uuid4().hex[:8]}"
    temp = folder / f".{stem}.tmp"
    try:
        pq.write_table(table, temp, compression="zstd")
        os.replace(temp, folder / f"{stem}.parquet")
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return int(table.num_rows)


def log_files(project: Project, group_name: str) -> list[str]:
    """The group's log parts, oldest first ([] when nothing was pushed)."""
    folder = log_dir(project, group_name)
    if not folder.is_dir():
        return []
    return sorted(str(p) for p in folder.glob("part-*.parquet"))
