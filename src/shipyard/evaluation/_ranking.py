"""Which runs of an experiment are best: the order a leaderboard starts in."""

from __future__ import annotations

from dataclasses import dataclass

from shipyard.catalog.paging import PageQuery
from shipyard.evaluation._metrics import HIGHER_IS_BETTER
from shipyard.project import Project

__all__ = ["RunOrder", "best_first"]

SCORE = "metrics.valid_score"
"""What AutoML records of each trial: its validation score in the search's metric."""


@dataclass(frozen=True)
class RunOrder:
    """A sort of the ``runs`` listing, and the metric it ranks by (None: newest first)."""

    sort: str
    descending: bool
    metric: str | None = None


def best_first(project: Project, experiment: str) -> RunOrder:
    """Best validation score first, in the direction of the metric the experiment's latest
    AutoML search optimized (``log_loss`` lowest first, ``pr_auc`` highest first); newest
    first for an experiment that never ran a search (its runs hold no validation score)."""
    latest = project.catalog.page_runs(
        PageQuery(limit=1, filters={"experiment": experiment, "kind": "automl"})
    ).items
    metric = latest[0].params.get("metric") if latest else None
    if not isinstance(metric, str) or metric not in HIGHER_IS_BETTER:
        return RunOrder("started_at", True)
    return RunOrder(SCORE, HIGHER_IS_BETTER[metric], metric)
