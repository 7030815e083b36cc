"""Point-in-time feature values for a spine of (entity, time) rows, in DuckDB."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

    from shipyard.project import Project

__all__ = ["historical_features"]


def historical_features(
    project: Project,
    spine: pa.Table | str,
    *,
    entity: Sequence[str],
    time: str,
    features: Sequence[str],
) -> pa.Table:
    """The spine's columns plus each selected feature's value as of the row's time."""
    raise NotImplementedError
