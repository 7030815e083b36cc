"""One stacking layer over the best model of each family, kept only when it wins out of fold.

The members' validation scores are honest level-0 predictions (each member was fit on the
training rows only; after a cross-validated search, they are the out-of-fold scores of the
bags of fold models, AutoGluon's bagged stacking). The level-1 learner
(:class:`shipyard.model.StackedFamily`: a weight per member on its log-odds,
log-probabilities or values, and a bias per class) is fit on them; to judge it without
letting it grade its own homework, the validation rows are split in folds and every fold
is scored by a stacker fit on the other folds. The model the search would otherwise ship
(the Caruana ensemble, or the best single model) is judged on the same folds, the ensemble
re-selected on each fold's other rows. Both are scored fold by fold and the folds' scores
averaged: a rival re-selected per fold may pick another model (or other weights) on each
fold, whose scores are on other scales, and pooled they ranked worse than any of its
choices alone (on ``lending_club`` 0.7280, where the ensemble scored 0.7504 on the same
rows), so the stack won against a handicapped rival. The stack is kept when it wins on
that mean, by more than the sampling noise (on 90% of bootstrap resamples of the rows,
drawn within each fold).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import numpy as np
from scipy.optimize import minimize

from shipyard.automl._ensemble import caruana_select, ensemble_pool
from shipyard.automl._metrics import score
from shipyard.automl._result import Candidate, SearchResult, StackChoice
from shipyard.automl._trial import SearchData
from shipyard.model.stacking import link_features, stack_scores
from shipyard.types import ProblemType

__all__ = [
    "choose_stack",
    "fit_stacker",
    "stack_members",
    "stacking_seconds",
    "wins_out_of_fold",
]

_MAX_MEMBERS = 3  # families in the stack (each adds its latency to a prediction)
_FOLDS = 5
_BOOTSTRAPS = 50
_SURE = 0.9  # share of bootstrap resamples of the rows on which the stack's gain must hold
_OOF_ROWS = 5_000  # validation rows the out-of-fold comparison runs on at most (time)
_L2 = 1e-3  # ridge on the level-1 weights
_SECONDS_PER_ROW = 4e-4  # the comparison's cost per validation row, measured on a busy machine


def stacking_seconds(n_valid: int, n_families: int) -> float:
    """Seconds to keep for choosing a stack after the search (none with one family)."""
    return 0.0 if n_families < 2 else _SECONDS_PER_ROW * min(n_valid, _OOF_ROWS)


def stack_members(candidates: Sequence[Candidate], max_ms: float) -> list[int]:
    """Indices of the best candidate of each family (best first) whose predictions are
    kept, while their summed single-row latency stays within ``max_ms`` (one fold model's
    share of a bag: a bag too slow for the model is refit, see shipyard.train)."""
    chosen: list[int] = []
    seen: set[str] = set()
    latency = 0.0
    for i, c in enumerate(candidates):
        if c.valid_scores is None or c.family.name in seen:
            continue
        if latency + c.single_latency_ms > max_ms and chosen:
            continue
        chosen.append(i)
        seen.add(c.family.name)
        latency += c.single_latency_ms
        if len(chosen) == _MAX_MEMBERS:
            break
    return chosen


def fit_stacker(
    problem: ProblemType, features: list[np.ndarray], y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Level-1 weights (one per member) and bias (one per class) fit on ``features``
    (each member's :func:`link_features`): penalized log loss, or least squares."""
    m, k = len(features), features[0].shape[1]
    if problem == "regression":
        design = np.column_stack([np.ones(len(y)), *(f[:, 0] for f in features)])
        ridge = _L2 * len(y) * np.eye(m + 1)
        ridge[0, 0] = 0.0
        solution = np.linalg.solve(design.T @ design + ridge, design.T @ y)
        return solution[1:], solution[:1]
    stacked = np.stack(features)  # (m, n, k)
    target = (y == 1).astype(np.float64)[:, None] if k == 1 else np.eye(k)[y.astype(int)]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:m], theta[m:]
        margin = b[None, :] + np.tensordot(w, stacked, axes=1)
        if k == 1:
            p = 1.0 / (1.0 + np.exp(-margin))
            value = np.mean(np.logaddexp(0.0, margin) - target * margin)
        else:
            shifted = margin - margin.max(axis=1, keepdims=True)
            log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            p = np.exp(log_p)
            value = -np.mean((target * log_p).sum(axis=1))
        residual = (p - target) / len(y)
        grad_w = np.einsum("mnk,nk->m", stacked, residual) + _L2 * w
        return float(value + 0.5 * _L2 * w @ w), np.concatenate([grad_w, residual.sum(axis=0)])

    start = np.concatenate([np.full(m, 1.0 / m), np.zeros(k)])
    theta = minimize(loss, start, jac=True, method="L-BFGS-B").x
    return theta[:m], theta[m:]


def _folds(y: np.ndarray, problem: ProblemType, seed: int) -> list[np.ndarray] | None:
    """Held-out row indices of each fold (stratified for classes), or None when the rows
    are too few to give every fold each class."""
    from sklearn.model_selection import KFold, StratifiedKFold

    if problem == "regression":
        if len(y) < 10 * _FOLDS:
            return None
        splitter = KFold(_FOLDS, shuffle=True, random_state=seed)
        return [test for _, test in splitter.split(y)]
    if np.unique(y, return_counts=True)[1].min() < _FOLDS:
        return None
    splitter = StratifiedKFold(_FOLDS, shuffle=True, random_state=seed)
    return [test for _, test in splitter.split(np.zeros(len(y)), y)]


def wins_out_of_fold(
    problem: ProblemType,
    stack: Sequence[np.ndarray],
    pool: Sequence[np.ndarray],
    y: np.ndarray,
    metric: Callable[[np.ndarray, np.ndarray], float],
    *,
    higher_is_better: bool,
    ensemble: bool,
    seed: int = 0,
) -> tuple[bool, float, float] | None:
    """Whether a stack over ``stack``'s predictions beats, out of fold, what the search
    ships otherwise: Caruana selection over ``pool`` when ``ensemble``, else the best of
    ``pool`` (chosen on each fold's other rows, as the stack is fit on them).

    Returns (wins, the stack's out-of-fold score, the alternative's: means over the
    folds), or None when the rows are too few to fold.
    """
    folds = _folds(y, problem, seed)
    if folds is None:
        return None
    sign = 1.0 if higher_is_better else -1.0
    features = [link_features(problem, p) for p in stack]
    oof_stack = np.zeros_like(np.asarray(stack[0], dtype=np.float64))
    oof_rival = np.zeros_like(oof_stack)
    for held in folds:
        fit = np.setdiff1d(np.arange(len(y)), held)
        weights, bias = fit_stacker(problem, [f[fit] for f in features], y[fit])
        oof_stack[held] = stack_scores(problem, [f[held] for f in features], weights, bias)
        oof_rival[held] = _rival(pool, y, fit, held, metric, sign, ensemble)
    stacked = _fold_mean(metric, y, oof_stack, folds)
    rival = _fold_mean(metric, y, oof_rival, folds)
    won = sign * (stacked - rival) > 1e-12 and _sure(
        y, oof_stack, oof_rival, folds, metric, sign, seed
    )
    return won, stacked, rival


def _fold_mean(
    metric: Callable[[np.ndarray, np.ndarray], float],
    y: np.ndarray,
    predictions: np.ndarray,
    folds: Sequence[np.ndarray],
) -> float:
    """The mean of ``metric`` over the folds, each scored on its own held-out rows."""
    return float(np.mean([metric(y[held], predictions[held]) for held in folds]))


def _sure(
    y: np.ndarray,
    stacked: np.ndarray,
    rival: np.ndarray,
    folds: Sequence[np.ndarray],
    metric: Callable[[np.ndarray, np.ndarray], float],
    sign: float,
    seed: int,
) -> bool:
    """Whether the stack's out-of-fold gain holds on bootstrap resamples of the rows,
    drawn within each fold (in at least _SURE of them): a gain the size of the sampling
    noise is no win."""
    rng = np.random.default_rng(seed)
    gains = 0
    for _ in range(_BOOTSTRAPS):
        resampled = [held[rng.integers(0, len(held), len(held))] for held in folds]
        gain = sign * (
            _fold_mean(metric, y, stacked, resampled) - _fold_mean(metric, y, rival, resampled)
        )
        gains += bool(gain > 0)  # NaN (a resample with one class) counts as no gain
    return gains >= _SURE * _BOOTSTRAPS


def _rival(
    pool: Sequence[np.ndarray],
    y: np.ndarray,
    fit: np.ndarray,
    held: np.ndarray,
    metric: Callable[[np.ndarray, np.ndarray], float],
    sign: float,
    ensemble: bool,
) -> np.ndarray:
    """The alternative's predictions on ``held``, chosen on the ``fit`` rows."""
    fitted = [p[fit] for p in pool]
    if ensemble:
        weights, _ = caruana_select(fitted, partial(metric, y[fit]), higher_is_better=sign > 0)
        return np.asarray(sum(w * pool[i][held] for i, w in weights.items()))
    best = max(range(len(pool)), key=lambda i: sign * metric(y[fit], fitted[i]))
    return pool[best][held]


def choose_stack(result: SearchResult, data: SearchData, higher: bool, seed: int = 0) -> str:
    """Set the stack on ``result`` when it wins out of fold; say what became of it."""
    members = stack_members(result.candidates, data.members_max_ms)
    if len(members) < 2:
        families = {c.family.name for c in result.candidates if c.valid_scores is not None}
        if len(families) < 2:
            return "not built: fewer than two families have a finished model"
        return (
            f"not built: the best models of two families predict one row in more than "
            f"{data.members_max_ms:.2g} ms together (the stack's latency limit)"
        )
    y = data.y_valid
    rows = _sample(len(y), seed)
    pool = [c.valid_scores for c in ensemble_pool(result.candidates)]
    metric = partial(score, result.metric, data.problem)
    stack = [np.asarray(result.candidates[i].valid_scores) for i in members]
    verdict = wins_out_of_fold(
        data.problem,
        [p[rows] for p in stack],
        [np.asarray(p)[rows] for p in pool],
        y[rows],
        metric,
        higher_is_better=higher,
        ensemble=result.ensemble is not None,
        seed=seed,
    )
    rival = "the ensemble" if result.ensemble is not None else "the best single model"
    if verdict is None:
        return "not built: too few validation rows to judge it out of fold"
    won, stacked, rival_score = verdict
    if not won:
        return (
            f"not built: out of fold it scored {stacked:.6g} against {rival_score:.6g} for "
            f"{rival}: no gain beyond the sampling noise"
        )
    weights, bias = fit_stacker(data.problem, [link_features(data.problem, p) for p in stack], y)
    result.stack = StackChoice(members, weights, bias, stacked, rival_score, rival)
    names = ", ".join(result.candidates[i].family.name for i in members)
    return (
        f"built over {len(members)} families ({names}): out of fold {stacked:.6g} against "
        f"{rival_score:.6g} for {rival}"
    )


def _sample(n: int, seed: int) -> np.ndarray:
    """Row indices the comparison runs on: all of them, or a seeded sample of _OOF_ROWS."""
    if n <= _OOF_ROWS:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=_OOF_ROWS, replace=False))
