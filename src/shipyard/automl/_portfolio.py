"""The warm start: strong configurations per family, learned offline and shipped as data.

``portfolio.json`` beside this module holds, per task kind (classification, regression) and
family, a few configurations as Optuna parameters (``{}`` is the family's defaults), in the
order a greedy pass chose them to minimize the mean normalized regret over many tables (the
zero-shot portfolios of FLAML and AutoGluon). ``benchmarks/learn_portfolio.py`` learns it
from tables that ship inside packages, none of them a benchmark dataset, and the file says
which tables, when and with what command.

A search enqueues these first, family by family: each family's strongest configuration,
then the next ones, then the defaults of any family whose portfolio does not hold them. On
data of another size the order adapts: after the strongest, the configurations learned on
tables closest in size come first, and large data gets fewer of them (each costs more).

The learning tables are small (a few thousand rows at most), so no learned configuration
is one for large data. ``presets`` in the file holds the few that are, taken from the
field with their source (AutoGluon's GBMLarge): each is tried right after the strongest
configuration on tables of at least its ``min_rows`` training rows.
"""

from __future__ import annotations

import functools
import json
import math
import warnings
from collections.abc import Sequence
from importlib import resources
from typing import Any

import optuna

from shipyard.model import get_family, twinned
from shipyard.types import ProblemType

__all__ = ["enqueue_warm_start", "fits_space", "load_portfolio", "warm_start"]

_FILE = "portfolio.json"
_SIZES = ((50_000, 3), (500_000, 2))  # at most this many training rows: this many configs
_LARGE = 1  # configurations per family beyond the last size


@functools.cache
def load_portfolio() -> dict[str, Any]:
    """The shipped portfolio: {"version", "provenance", "families": {kind: {family: [
    {"params", "mean_regret", "rows"}, ...]}}, "presets": {kind: {family: [{"params",
    "min_rows", "source"}, ...]}}}."""
    text = resources.files("shipyard.automl").joinpath(_FILE).read_text(encoding="utf-8")
    portfolio: dict[str, Any] = json.loads(text)
    return portfolio


def _kind(problem: ProblemType) -> str:
    return "regression" if problem == "regression" else "classification"


def warm_start(family: str, problem: ProblemType, n_rows: int) -> list[dict[str, Any]]:
    """The portfolio's configurations of ``family`` for ``problem`` (Optuna parameters, ``{}``
    for the defaults) in the order to try them on ``n_rows`` training rows."""
    portfolio = load_portfolio()
    family = twinned(family)  # a log twin starts where the family it twins does
    entries = portfolio["families"].get(_kind(problem), {}).get(family, [])
    if not entries:
        return []
    presets = portfolio.get("presets", {}).get(_kind(problem), {}).get(family, [])
    large = [e for e in presets if n_rows >= e["min_rows"]]
    size = math.log(max(n_rows, 2))
    rest = sorted(entries[1:], key=lambda e: abs(size - math.log(max(e["rows"], 2))))
    count = next((n for limit, n in _SIZES if n_rows <= limit), _LARGE)
    return [dict(e["params"]) for e in [entries[0], *large, *rest][:count]]


def enqueue_warm_start(
    study: optuna.Study, families: Sequence[str], problem: ProblemType, n_rows: int
) -> int:
    """Enqueue the portfolio's configurations, strongest of every family first, then every
    family's defaults not among them; returns how many trials were enqueued."""
    starts = {
        name: [p for p in warm_start(name, problem, n_rows) if fits_space(name, problem, p)]
        for name in families
    }
    enqueued = 0
    for rank in range(max((len(s) for s in starts.values()), default=0)):
        for name in families:
            if rank < len(starts[name]):
                params = starts[name][rank]
                attrs = {"default": True} if not params else {"portfolio": rank}
                study.enqueue_trial({"family": name, **params}, user_attrs=attrs)
                enqueued += 1
    for name in families:
        if {} not in starts[name]:
            study.enqueue_trial({"family": name}, user_attrs={"default": True})
            enqueued += 1
    return enqueued


def fits_space(family: str, problem: ProblemType, params: dict[str, Any]) -> bool:
    """Whether ``params`` are exactly what ``family`` samples for ``problem``, each in its
    range: a portfolio learned before a search space changed must not enqueue values the
    space no longer holds (Optuna would warn and use them anyway)."""
    if not params:
        return True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an out-of-range fixed value: judged below
        study = optuna.create_study()
        study.enqueue_trial(params)
        trial = study.ask()
        try:
            get_family(family).suggest(trial, problem)
        except Exception:
            return False
    return trial.params == params and all(
        d._contains(d.to_internal_repr(trial.params[name]))
        for name, d in trial.distributions.items()
    )
