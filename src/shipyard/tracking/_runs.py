"""Reading runs, with dead ones repaired first: every listing sees the same truth.

A run whose process died (killed, out of memory) cannot mark itself failed; like Optuna's
``fail_stale_trials``, each read here fails such runs before it answers, so no face (CLI,
SDK, REST) shows a dead run as running.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shipyard.catalog.paging import Page, PageQuery
from shipyard.entities import Run
from shipyard.errors import InvalidInput, NotFound
from shipyard.project import Project
from shipyard.tracking._liveness import fail_dead_runs

__all__ = ["RunDetail", "compare_runs", "get_run", "list_runs", "runs_page", "split_of"]

_CURVES = ("train_loss", "valid_loss")


@dataclass(frozen=True)
class RunDetail:
    """A run and its learning curves (``(step, value)`` points per metric key)."""

    run: Run
    curves: dict[str, list[tuple[int, float]]] = field(default_factory=dict)


def list_runs(
    project: Project, experiment: str | None = None, *, status: str | None = None
) -> list[Run]:
    """Runs, newest first, optionally of one experiment and one status.

    Raises:
        InvalidInput: ``status`` is not running, finished or failed.
    """
    fail_dead_runs(project.catalog, project.actor)
    return project.catalog.list_runs(experiment, status=status)


def runs_page(project: Project, query: PageQuery) -> Page[Run]:
    """One page of runs (see :data:`~shipyard.catalog.paging.LISTINGS` for the sorts and
    filters), dead ones failed first.

    Raises:
        InvalidInput: A bad sort, filter, limit or cursor.
    """
    fail_dead_runs(project.catalog, project.actor)
    return project.catalog.page_runs(query)


def get_run(project: Project, run_id: str) -> RunDetail:
    """One run (an id or a unique prefix of 6+ characters) with its learning curves.

    Raises:
        NotFound: No run has that id or prefix.
    """
    fail_dead_runs(project.catalog, project.actor)
    run = project.catalog.get_run(run_id)
    curves = {key: project.catalog.metric_history(run.id, key) for key in _CURVES}
    return RunDetail(run, {k: v for k, v in curves.items() if v})


def compare_runs(project: Project, run_ids: list[str]) -> list[Run]:
    """The runs named, in order, for a side-by-side view.

    Raises:
        InvalidInput: Fewer than two runs are named.
        NotFound: A run does not exist.
    """
    if len(run_ids) < 2:
        raise InvalidInput(f"Compare needs two or more run ids. Got {len(run_ids)}.")
    fail_dead_runs(project.catalog, project.actor)
    return [project.catalog.get_run(r) for r in run_ids]


def split_of(project: Project, run: Run) -> dict[str, Any] | None:
    """How a run's table was split (strategy, rows per part); a trial's is its parent job's.
    None when neither records one (or the parent is gone)."""
    split = run.params.get("split")
    parent = run.tags.get("parent_run")
    if not isinstance(split, dict) and parent:
        try:
            split = project.catalog.get_run(str(parent)).params.get("split")
        except NotFound:
            return None
    return split if isinstance(split, dict) else None
