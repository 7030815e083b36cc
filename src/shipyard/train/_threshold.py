"""The binary decision threshold: by misclassification costs, by alert rate, or best F1."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from shipyard.errors import InvalidInput
from shipyard.evaluation import best_f1_threshold

__all__ = ["check_decision", "choose_threshold"]


def check_decision(cost_fp: float | None, cost_fn: float | None, alert_rate: float | None) -> str:
    """Validate the decision options and name the rule they select: cost, alert_rate or f1.

    Raises:
        InvalidInput: Only one of the costs, a non-positive cost, a rate outside (0, 1], or
            costs and an alert rate together.
    """
    if (cost_fp is None) != (cost_fn is None):
        raise InvalidInput(
            "Give both cost_fp and cost_fn (the cost of a false alarm and of a miss), or "
            f"neither. Got cost_fp={cost_fp!r} and cost_fn={cost_fn!r}."
        )
    for name, value in (("cost_fp", cost_fp), ("cost_fn", cost_fn)):
        if value is not None and not (_finite(value) and value > 0):
            raise InvalidInput(
                f"The '{name}' parameter of train must be a positive number. Got {value!r}."
            )
    if alert_rate is not None and not (_finite(alert_rate) and 0 < alert_rate <= 1):
        raise InvalidInput(
            "The 'alert_rate' parameter of train must be a share in (0, 1], e.g. 0.02 to flag "
            f"at most 2% of rows. Got {alert_rate!r} instead."
        )
    if cost_fp is not None and alert_rate is not None:
        raise InvalidInput(
            "Choose the threshold either by costs (cost_fp, cost_fn) or by alert_rate, not both."
        )
    if cost_fp is not None:
        return "cost"
    return "alert_rate" if alert_rate is not None else "f1"


def choose_threshold(
    y: np.ndarray,
    scores: np.ndarray,
    *,
    cost_fp: float | None = None,
    cost_fn: float | None = None,
    alert_rate: float | None = None,
) -> tuple[float, dict[str, Any]]:
    """The threshold on P(positive) (flag when score >= threshold) and how it was chosen.

    * costs: minimizes ``cost_fp * FP + cost_fn * FN`` on (validation) scores;
    * ``alert_rate``: the lowest threshold that flags at most that share of rows;
    * otherwise the threshold with the best F1.
    """
    rule = check_decision(cost_fp, cost_fn, alert_rate)
    y = np.asarray(y, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    if rule == "f1":
        return best_f1_threshold(y, scores), {"rule": "f1"}
    order = np.argsort(-scores, kind="stable")
    sorted_scores = scores[order]
    # Candidate k flags the top k rows; only cut where the score changes (ties go together).
    distinct = np.r_[sorted_scores[1:] != sorted_scores[:-1], True]
    flagged = np.flatnonzero(distinct) + 1
    thresholds = sorted_scores[flagged - 1]
    if rule == "alert_rate":
        allowed = flagged <= alert_rate * len(scores)  # type: ignore[operator]
        if not allowed.any():
            top = float(sorted_scores[0])
            return float(np.nextafter(top, np.inf)), {"rule": "alert_rate", "rate": 0.0}
        k = int(np.flatnonzero(allowed)[-1])
        return float(thresholds[k]), {
            "rule": "alert_rate",
            "target_rate": alert_rate,
            "rate": float(flagged[k] / len(scores)),
        }
    positives = np.cumsum(y[order])[flagged - 1]
    false_pos = flagged - positives
    false_neg = y.sum() - positives
    cost = float(cost_fp or 0) * false_pos + float(cost_fn or 0) * false_neg
    # Flagging nothing is a candidate too: every positive is a miss.
    nothing = float(cost_fn or 0) * y.sum()
    k = int(np.argmin(cost))
    if nothing < cost[k]:
        return float(np.nextafter(sorted_scores[0], np.inf)), {
            "rule": "cost",
            "cost_fp": cost_fp,
            "cost_fn": cost_fn,
            "cost": float(nothing),
        }
    return float(thresholds[k]), {
        "rule": "cost",
        "cost_fp": cost_fp,
        "cost_fn": cost_fn,
        "cost": float(cost[k]),
        "cost_per_row": float(cost[k] / len(y)),
    }


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
