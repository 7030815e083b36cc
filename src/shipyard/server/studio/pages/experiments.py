"""Experiments: the experiments, each one's leaderboard (sorted and filtered on the server,
updated in place by htmx), a run's learning curves, and 2-10 runs compared side by side."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from shipyard.catalog.paging import LISTINGS, PageQuery
from shipyard.entities import Run
from shipyard.errors import NotFound, did_you_mean
from shipyard.server.studio._auth import Viewer, viewer
from shipyard.server.studio._charts import curves_figure, flatten
from shipyard.server.studio._render import is_htmx, render

router = APIRouter()

RUN_ID = r"^[0-9a-f]{6,32}$"
NAME = r"^[A-Za-z0-9][A-Za-z0-9_.:@\-]{0,127}$"
SORT = r"^[A-Za-z0-9_.:\-]{1,140}$"
PAGE = 50
METRIC_COLUMNS = 6
"""The leaderboard shows the metrics most runs on the page have, at most this many."""
CURVES = ("train_loss", "valid_loss")
PREFERRED = ("valid_score", "valid.roc_auc", "valid.pr_auc", "valid.log_loss", "test.roc_auc")
"""Metrics shown first when the runs have them (AutoML's score, then the usual ones)."""

Who = Annotated[Viewer, Depends(viewer)]
Cursor = Annotated[str | None, Query(max_length=4096)]


@router.get("/experiments", include_in_schema=False)
def experiments(
    request: Request,
    who: Who,
    prefix: Annotated[str | None, Query(max_length=128)] = None,
    cursor: Cursor = None,
) -> Response:
    found = who.project.catalog.page_experiments(
        PageQuery(limit=PAGE, cursor=cursor, filters={"prefix": prefix or None})
    )
    more = _url("/experiments", prefix=prefix, cursor=found.next_cursor)
    template = "experiments/_list.html" if is_htmx(request) else "experiments/index.html"
    return render(
        request, template, who, items=found.items, prefix=prefix or "", next_url=more
    )  # fmt: skip


@router.get("/experiments/{name}", include_in_schema=False)
def leaderboard(
    request: Request,
    who: Who,
    name: Annotated[str, Path(pattern=NAME)],
    sort: Annotated[str | None, Query(pattern=SORT)] = None,
    order: Annotated[Literal["asc", "desc"] | None, Query()] = None,
    status: Annotated[Literal["running", "finished", "failed"] | None, Query()] = None,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    cursor: Cursor = None,
) -> Response:
    from shipyard.evaluation import best_first
    from shipyard.tracking import runs_page

    _check_experiment(who, name)
    filters = {"experiment": name, "status": status, "kind": kind or None}
    descending = None if order is None else order == "desc"
    ranked = best_first(who.project, name) if sort is None and order is None else None
    if ranked is not None:  # the default: best validation score first
        sort, descending = ranked.sort, ranked.descending
    found = runs_page(who.project, PageQuery(sort, descending, PAGE, cursor, filters))
    state = {
        "sort": None if ranked else sort, "order": order, "status": status, "kind": kind,
    }  # fmt: skip
    spec = LISTINGS["runs"]
    sorted_by = sort or spec.default_sort
    down = spec.descending if descending is None else descending
    view: dict[str, Any] = {
        "name": name,
        "ranked_by": ranked.metric if ranked else None,
        "runs": found.items,
        "columns": _metric_columns(found.items),
        "state": state,
        "sorts": spec.sorts,
        "sort_url": lambda key: _sort_url(name, state, key, sorted_by, down),
        "sorted_by": sorted_by,
        "descending": down,
        "next_url": _url(f"/experiments/{name}", **state, cursor=found.next_cursor),
    }
    template = "experiments/_leaderboard.html" if is_htmx(request) else "experiments/board.html"
    return render(request, template, who, **view)


@router.get("/runs/compare", include_in_schema=False)
def compare(
    request: Request,
    who: Who,
    ids: Annotated[list[Annotated[str, Query(pattern=RUN_ID)]], Query(max_length=10)],
    only_diff: Annotated[bool, Query()] = False,
) -> Response:
    from shipyard.tracking import compare_runs

    runs = compare_runs(who.project, list(ids))
    params = [flatten(r.params) for r in runs]
    metrics = [flatten(r.metrics) for r in runs]
    charts = {}
    for key in CURVES:
        series = {_label(r): who.project.catalog.metric_history(r.id, key) for r in runs}
        if any(series.values()):
            charts[key] = curves_figure({k: v for k, v in series.items() if v}, y_title=key)
    return render(
        request,
        "experiments/compare.html",
        who,
        runs=runs,
        labels=[_label(r) for r in runs],
        params=_table(params, only_diff),
        metrics=_table(metrics, only_diff),
        charts=charts,
        only_diff=only_diff,
        ids=list(ids),
    )


@router.get("/runs/{run_id}", include_in_schema=False)
def run_page(request: Request, who: Who, run_id: Annotated[str, Path(pattern=RUN_ID)]) -> Response:
    from shipyard.tracking import get_run

    detail = get_run(who.project, run_id)
    chart = curves_figure(detail.curves, y_title="loss") if detail.curves else None
    return render(
        request,
        "experiments/run.html",
        who,
        run=detail.run,
        params=flatten(detail.run.params),
        metrics=flatten(detail.run.metrics),
        chart=chart,
    )


def _check_experiment(who: Viewer, name: str) -> None:
    """An unknown experiment is a 404 with a suggestion, not an empty leaderboard."""
    catalog = who.project.catalog
    first = catalog.page_experiments(PageQuery(limit=1, filters={"prefix": name})).items
    if first and first[0].name == name:
        return
    known = [e.name for e in catalog.page_experiments(PageQuery(limit=200)).items]
    raise NotFound(f"No experiment is named {name!r}.{did_you_mean(name, known)}")


def _metric_columns(runs: list[Run]) -> list[str]:
    counts: Counter[str] = Counter()
    for run in runs:
        counts.update(k for k, v in flatten(run.metrics).items() if isinstance(v, int | float))
    first = [key for key in PREFERRED if key in counts]
    rest = [key for key, _ in counts.most_common() if key not in first]
    return (first + rest)[:METRIC_COLUMNS]


def _table(rows: list[dict[str, Any]], only_diff: bool) -> list[tuple[str, list[Any], bool]]:
    """(key, each run's value, whether they differ) for every key any run has."""
    keys = sorted({k for row in rows for k in row})
    out = []
    for key in keys:
        values = [row.get(key) for row in rows]
        differs = any(repr(v) != repr(values[0]) for v in values[1:])
        if differs or not only_diff:
            out.append((key, values, differs))
    return out


def _label(run: Run) -> str:
    return f"{run.name} ({run.id[:6]})"


def _sort_url(name: str, state: dict[str, Any], key: str, sorted_by: str, descending: bool) -> str:
    """The leaderboard sorted by ``key``: descending first, the other way on a second click."""
    order = "asc" if key == sorted_by and descending else "desc"
    return _url(f"/experiments/{name}", **{**state, "sort": key, "order": order}) or ""


def _url(path: str, **params: Any) -> str | None:
    """``path`` with the parameters that are set; None when a ``cursor`` was asked for and
    there is none (the last page)."""
    if "cursor" in params and params["cursor"] is None:
        return None
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{path}?{query}" if query else path
