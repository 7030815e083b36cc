"""The final model's members after a search: the trials' fits, the bags of fold models
kept, the refits on train + validation, and how long the members may take to predict a
row."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from shipyard.automl import MEMBERS_MAX_MS, Budget, Candidate, SearchData, refit_seconds
from shipyard.errors import InvalidInput
from shipyard.model import (
    EnsembleEstimator,
    EnsembleFamily,
    Family,
    FeatureEncoder,
    FitData,
    Problem,
)
from shipyard.train._fitting import Options, Parts

__all__ = ["Member", "bag", "final_members", "flat", "members_ms", "train_fit"]

_ROW_MS = 2.0  # the single-row latency target
_ROW_OVERHEAD_MS = 0.5  # calibrating, deciding and the call around the members, with margin
_THREADED_REFIT_SECONDS = 1.0  # a refit this long on one thread runs on refit_threads
_SAMPLE_VALUES = {"number": 1.0, "boolean": True, "string": "x", "datetime": "2024-01-01"}

Member = tuple[Family, Any, float]


def train_fit(c: Candidate, weight: float) -> Member:
    """The candidate as its trial fit it (on train)."""
    return c.family, c.fit.estimator, weight


def bag(c: Candidate, weight: float) -> Member:
    """The candidate's fold models, averaged (a cross-validated trial)."""
    models = c.fold_estimators or [c.fit.estimator]
    averaged = EnsembleEstimator([(c.family, m, 1.0 / len(models)) for m in models])
    return EnsembleFamily(), averaged, weight


def flat(members: list[Member]) -> list[Member]:
    """Bags spread into their fold models, each weighted by its share: one flat ensemble,
    whose explanations stay exact (an ensemble explains members of other families)."""
    out: list[Member] = []
    for family, estimator, weight in members:
        if isinstance(family, EnsembleFamily):
            out.extend((f, m, weight * w) for f, m, w in estimator.members)
        else:
            out.append((family, estimator, weight))
    return out


def final_members(
    chosen: list[tuple[Candidate, float]],
    problem: Problem,
    parts: Parts,
    options: Options,
    budget: Budget,
    say: Callable[[str], None],
    data: SearchData,
) -> tuple[list[Member], int]:
    """The final model's members, and how many of the chosen were refit on all rows.

    After a holdout search each member is refit when time allows. After a cross-validated
    one the members' bags of fold models stay, heaviest first, while the model predicts a
    row within the search's ``members_max_ms`` (bagging measured better than a refit on
    small data); the others are refit, time allowing, else their first fold's model stands
    in (1/k of the latency).
    """
    if data.folds is None:
        return _refit(chosen, problem, parts, options, budget, say, data)
    bagged = _bags_kept(chosen, data.members_max_ms)
    slow = [(c, w) for k, (c, w) in enumerate(chosen) if k not in bagged]
    if slow:
        names = ", ".join(c.family.name for c, _ in slow)
        say(f"The bags of fold models of {names} would predict a row too slowly: refitting")
    refit_members, refit = _refit(slow, problem, parts, options, budget, say, data)
    replaced = iter(refit_members)
    members = [bag(c, w) if k in bagged else next(replaced) for k, (c, w) in enumerate(chosen)]
    return flat(members), refit


def members_ms(encoder: FeatureEncoder) -> float:
    """Single-row milliseconds the model's members may take together: what the 2 ms target
    leaves after encoding a row (measured here, the median of 30 encodings: 0.1 ms for a
    few columns, 0.5 ms for caravan's 85) and _ROW_OVERHEAD_MS, within 0.3 and
    MEMBERS_MAX_MS."""
    record = {spec.name: _SAMPLE_VALUES.get(spec.kind) for spec in encoder.columns_}
    try:
        encoder.encode_records([record])
    except InvalidInput:  # an encoder that needs more than this sample: keep the default
        return MEMBERS_MAX_MS
    times = []
    for _ in range(30):
        started = time.perf_counter()
        encoder.encode_records([record])
        times.append(time.perf_counter() - started)
    left = _ROW_MS - _ROW_OVERHEAD_MS - 1000 * float(np.median(times))
    return float(np.clip(left, 0.3, MEMBERS_MAX_MS))


def _bags_kept(chosen: list[tuple[Candidate, float]], max_ms: float) -> set[int]:
    """Which members keep their bag: heaviest first, while the bags kept and the single
    models of the others predict a row within ``max_ms`` together."""
    total = sum(c.single_latency_ms for c, _ in chosen)
    kept: set[int] = set()
    for k, (c, _) in sorted(enumerate(chosen), key=lambda item: -abs(item[1][1])):
        extra = c.latency_ms - c.single_latency_ms
        if total + extra <= max_ms:
            kept.add(k)
            total += extra
    return kept


def _refit(
    chosen: list[tuple[Candidate, float]],
    problem: Problem,
    parts: Parts,
    options: Options,
    budget: Budget,
    say: Callable[[str], None],
    data: SearchData,
) -> tuple[list[Member], int]:
    """The chosen members (flat), each refit on train + validation when its estimated time
    fits, and how many were. A booster's refit runs its best iteration times the rows it
    gains (:meth:`SearchData.refit_growth`; ``benchmarks/refit_rounds.py`` measured it).

    The heaviest-weighted members go first; a member that does not fit keeps its trial's
    fit (on train, or on its first fold; the weights came from validation, so both are
    honest).
    """
    n_fit, n_all = data.refit_rows()
    everything = FitData(
        problem.type,
        len(problem.classes),
        np.vstack([parts.x["train"], parts.x["valid"]]),
        np.concatenate([parts.y["train"], parts.y["valid"]]),
        None,
        None,
        parts.categorical,
    )
    members: dict[int, Member] = {}
    refit = 0
    grow = data.refit_growth()
    for k, (c, w) in sorted(enumerate(chosen), key=lambda item: -item[1][1]):
        # The plain estimate, no margin: the search kept the margin in reserve, and a
        # parallel trial that outran its slot must not cost the heaviest member its refit
        # (on diamonds CatBoost, 0.6 of the ensemble, kept its train fit with 20 s unused).
        threads = _refit_threads(c, n_fit, n_all, options.threads, data.refit_threads, grow)
        estimate = refit_seconds([c], n_fit, n_all, margin=1.0, threads=threads, grow=grow)
        if budget.left() - budget.overhead() >= estimate:
            say(f"Refitting {c.family.name} on train + validation")
            params = c.family.refit_params(c.fit, grow)
            fit = c.family.fit(everything, params, options.seed, threads=threads)
            members[k] = (c.family, fit.estimator, w)
            refit += 1
        else:
            say(f"Not enough time left to refit {c.family.name}: keeping its fit on train")
            members[k] = train_fit(c, w)
    return flat([members[k] for k in range(len(chosen))]), refit


def _refit_threads(
    c: Candidate, n_fit: int, n_all: int, threads: int, refit_threads: int, grow: float = 1.0
) -> int:
    """Threads a refit of ``c`` fits with: the search's ``refit_threads`` (the refits run
    alone, so all cores unless the user set a count) once the refit takes a second or more
    on ``threads`` (one for a small matrix, where OpenMP's start-up outweighs the gain).
    On diamonds, CatBoost's refit on one thread took 12.6 s with the other core idle."""
    seconds = refit_seconds([c], n_fit, n_all, margin=1.0, threads=threads, grow=grow)
    if seconds < _THREADED_REFIT_SECONDS:
        return threads
    return refit_threads
