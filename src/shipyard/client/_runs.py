"""Experiments, runs and curves through the REST API (``server/api/runs.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shipyard.client._decode import decode
from shipyard.client._http import HttpBase, segment
from shipyard.entities import Run
from shipyard.errors import NotFound

if TYPE_CHECKING:
    from shipyard.catalog.paging import ExperimentSummary, Page
    from shipyard.tracking import RunDetail

__all__ = ["RunsMixin"]


class RunsMixin(HttpBase):
    _splits: dict[str, dict[str, Any] | None]

    def list_experiments(self) -> list[ExperimentSummary]:
        """Every experiment with its count of runs and latest start, by name."""
        from shipyard.catalog.paging import ExperimentSummary

        return [decode(ExperimentSummary, e) for e in self._walk("/experiments")]

    def runs_page(
        self,
        *,
        sort: str | None = None,
        descending: bool | None = None,
        limit: int = 50,
        cursor: str | None = None,
        **filters: Any,
    ) -> Page[Run]:
        """One page of runs (filters: experiment, status, kind, parent, created_by)."""
        from shipyard.catalog.paging import Page

        order = None if descending is None else ("desc" if descending else "asc")
        answer = self._get("/runs", sort=sort, order=order, limit=limit, cursor=cursor, **filters)
        return Page([decode(Run, r) for r in answer["items"]], answer["next_cursor"])

    def list_runs(
        self,
        experiment: str | None = None,
        *,
        status: str | None = None,
        sort: str | None = None,
        limit: int | None = None,
        **filters: Any,
    ) -> list[Run]:
        """Runs, newest first (or by ``sort``), at most ``limit`` of them."""
        items = self._walk(
            "/runs", limit, experiment=experiment, status=status, sort=sort, **filters
        )
        return [decode(Run, r) for r in items]

    def get_run(self, run_id: str) -> RunDetail:
        """A run (an id or a unique prefix of 6+ characters) and its learning curves."""
        from shipyard.tracking import RunDetail

        answer = self._get(f"/runs/{segment(run_id)}")
        curves = {k: [(int(s), v) for s, v in points] for k, points in answer["curves"].items()}
        return RunDetail(decode(Run, answer["run"]), curves)

    def metric_history(self, run_id: str, key: str) -> list[tuple[int, float]]:
        """The (step, value) points of one metric of a run."""
        points = self._get(f"/runs/{segment(run_id)}/metrics/{segment(key)}")
        return [(int(s), v) for s, v in points]

    def compare_runs(self, run_ids: list[str]) -> list[Run]:
        """The runs named, in order, for a side-by-side view."""
        answer = self._get("/runs/compare", ids=list(run_ids))
        runs = [decode(Run, r) for r in answer["runs"]]
        self._splits.update({r.id: s for r, s in zip(runs, answer["splits"], strict=True)})
        return runs

    def split_of(self, run: Run) -> dict[str, Any] | None:
        """How a run's table was split (a trial's is its job's, which the server looks up);
        known without a call for the runs :meth:`compare_runs` returned."""
        if run.id not in self._splits:
            split = run.params.get("split")
            parent = run.tags.get("parent_run")
            if not isinstance(split, dict) and parent:
                try:
                    split = self.get_run(str(parent)).run.params.get("split")
                except NotFound:
                    split = None
            self._splits[run.id] = split if isinstance(split, dict) else None
        return self._splits[run.id]
