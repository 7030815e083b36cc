"""Greedy ensemble selection (Caruana et al., 2004), and the check that an ensemble holds out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import numpy as np

from shipyard.automl._metrics import score
from shipyard.automl._result import Candidate, SearchResult
from shipyard.automl._trial import SearchData
from shipyard.errors import InvalidInput

__all__ = ["best_of_families", "caruana_select", "choose_ensemble", "ensemble_pool", "holds_out"]

_POOL = 8  # candidates offered to ensemble selection
_CROSS_CHECK_ROWS = 20_000  # validation sets up to this size cross-check a chosen ensemble


def best_of_families(ranked: Sequence[Candidate]) -> list[Candidate]:
    """The first (best) candidate of each family in ``ranked``."""
    firsts: dict[str, Candidate] = {}
    for c in ranked:
        firsts.setdefault(c.family.name, c)
    return list(firsts.values())


def ensemble_pool(ranked: Sequence[Candidate]) -> list[Candidate]:
    """The candidates offered to ensemble selection, best first: the best of each family,
    then the next best, _POOL in all. A pool of the best eight alone can be one family's
    near-copies (on ``default``, the twelve best were linear models), and a mix gains from
    models that err differently."""
    held = [c for c in ranked if c.valid_scores is not None]
    picked = {id(c) for c in best_of_families(held)[:_POOL]}
    for c in held:
        if len(picked) >= _POOL:
            break
        picked.add(id(c))
    return [c for c in held if id(c) in picked]


def caruana_select(
    predictions: Sequence[np.ndarray],
    score: Callable[[np.ndarray], float],
    *,
    higher_is_better: bool,
    rounds: int = 30,
    max_members: int = 3,
    latency_ms: Sequence[float] | None = None,
    max_latency_ms: float = float("inf"),
) -> tuple[dict[int, float], float]:
    """Weights over ``predictions`` that score best on validation, and that score.

    Starts from the best single model and adds, with replacement, the member that improves
    the averaged prediction most; keeps the best mix seen. At most ``max_members``
    distinct models take part, whose ``latency_ms`` (each adds its own to a prediction)
    sum to at most ``max_latency_ms``. The result is never worse on validation than the
    best single model (it *is* that model when nothing helps).
    """
    if not predictions:
        raise InvalidInput("Ensemble selection needs at least one model's predictions.")
    sign = 1.0 if higher_is_better else -1.0
    singles = [sign * score(p) for p in predictions]
    first = int(np.argmax(singles))
    total = predictions[first].astype(np.float64).copy()
    counts = {first: 1}
    best_value, best_counts = singles[first], dict(counts)
    cost = list(latency_ms) if latency_ms is not None else [0.0] * len(predictions)
    for _ in range(rounds):
        size = sum(counts.values()) + 1
        spent = sum(cost[i] for i in counts)
        allowed = set(counts) | {
            i
            for i in range(len(predictions))
            if len(counts) < max_members and spent + cost[i] <= max_latency_ms
        }
        trial_values = [
            sign * score((total + predictions[i]) / size) if i in allowed else -np.inf
            for i in range(len(predictions))
        ]
        pick = int(np.argmax(trial_values))
        total += predictions[pick]
        counts[pick] = counts.get(pick, 0) + 1
        if trial_values[pick] > best_value + 1e-12:
            best_value, best_counts = trial_values[pick], dict(counts)
    size = sum(best_counts.values())
    return {i: c / size for i, c in sorted(best_counts.items())}, sign * best_value


def holds_out(
    predictions: Sequence[np.ndarray],
    y: np.ndarray,
    score: Callable[[np.ndarray, np.ndarray], float],
    *,
    higher_is_better: bool,
    stratify: bool,
    seed: int = 0,
    repeats: int | None = None,
) -> bool:
    """Whether ensemble selection beats picking the best single model on rows it did not see.

    Weights chosen on the same validation rows they are scored on look better than they are,
    most of all on small validation sets. This cross-fits: choose the ensemble and the best
    single model on one half of the rows, compare them on the other half, then swap; and
    repeats that with ``repeats`` new halvings (default: as many as keep the rows scored
    near :data:`_CROSS_CHECK_ROWS`, 1 to 5). The ensemble holds when its mean gain on the
    held-out halves is positive: the expected gain of choosing an ensemble over choosing
    one model. (Asking for a gain on *every* half refused real gains on small validation
    sets, where one half's noise outweighs them.)
    """
    rng = np.random.default_rng(seed)
    if repeats is None:
        repeats = int(np.clip(_CROSS_CHECK_ROWS // max(len(y), 1), 1, 5))
    sign = 1.0 if higher_is_better else -1.0
    gains = []
    for _ in range(repeats):
        halves = _halves(y, rng, stratify)
        for fit_rows, check_rows in (halves, halves[::-1]):
            fitted = [p[fit_rows] for p in predictions]
            y_fit = y[fit_rows]
            weights, _ = caruana_select(
                fitted, partial(score, y_fit), higher_is_better=higher_is_better
            )
            best = max(range(len(fitted)), key=lambda i: sign * score(y_fit, fitted[i]))
            mix = sum(w * predictions[i][check_rows] for i, w in weights.items())
            single = predictions[best][check_rows]
            y_check = y[check_rows]
            gains.append(sign * (score(y_check, np.asarray(mix)) - score(y_check, single)))
    if not np.isfinite(gains).all():
        return True  # a metric undefined on a half: no verdict, keep the usual choice
    return float(np.mean(gains)) > 0


def _halves(
    y: np.ndarray, rng: np.random.Generator, stratify: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Two random halves of the rows (each keeping every class, when ``stratify``)."""
    if stratify:  # each half keeps both classes, so ranking metrics stay defined
        order = np.concatenate([rng.permutation(np.flatnonzero(y == c)) for c in np.unique(y)])
        return order[0::2], order[1::2]
    order = rng.permutation(len(y))
    return order[: len(y) // 2], order[len(y) // 2 :]


def choose_ensemble(result: SearchResult, data: SearchData, higher: bool) -> str:
    """Set the ensemble on ``result`` when it beats the best single model; say what
    became of it."""
    pool = ensemble_pool(result.candidates)
    predictions = [c.valid_scores for c in pool]
    weights, value = caruana_select(
        predictions,  # type: ignore[arg-type]
        lambda p: score(result.metric, data.problem, data.y_valid, p),
        higher_is_better=higher,
        # After a cross-validated search a member's bag of fold models is refit as one
        # model when the bags would be too slow together (see shipyard.train): at least
        # one fold model's share of the bag's latency is the member's.
        latency_ms=[c.single_latency_ms for c in pool],
        max_latency_ms=data.members_max_ms,
    )
    better = value > result.best.score if higher else value < result.best.score
    if len(weights) < 2 or not better:
        return "not built: no mix of models beat the best single model on validation"
    if len(data.y_valid) <= _CROSS_CHECK_ROWS and not holds_out(
        predictions,  # type: ignore[arg-type]
        data.y_valid,
        lambda y, p: score(result.metric, data.problem, y, p),
        higher_is_better=higher,
        stratify=data.problem != "regression",
    ):
        # On a small validation set the weights fit its noise: keep the ensemble only if
        # it also wins on rows it was not chosen on.
        return (
            "not built: it beat the best single model on validation but failed the "
            "held-out check (no gain on rows it was not chosen on)"
        )
    result.ensemble = {result.candidates.index(pool[i]): w for i, w in weights.items()}
    result.ensemble_score = value
    members = ", ".join(result.candidates[i].family.name for i in result.ensemble)
    return f"built from {len(result.ensemble)} models ({members})"
