"""Whether an AutoML regression models log(1 + y) instead of y.

Prices, amounts and counts are skewed and their effects multiply: a tree model of y spends
its splits on the few large values, a model of log(1 + y) fits the many multiplicative ones
(on ``diamonds``, LightGBM's test RMSE was 559.5 on y and 540.6 on log(1 + y)). The model
then predicts log(1 + y), and a calibrator maps it back (Duan's smearing, fit on
validation: :func:`shipyard.model.smearing_calibrator`), so every value the model returns,
and every metric, is in y's own units; its explanations add up in log(1 + y).

It is asked for (``target_transform``). The default, ``none``, keeps y: on ``diamonds`` a
60 s search of log(1 + y) scored a test RMSE of 542.8 against 532.8 on y, its boosters
slower to converge and its trials and ensemble chosen on the log scale. ``auto`` decides by
measurement: when y is never negative and skewed, one LightGBM fit on each scale
(early-stopped, on at most ``_PROBE_ROWS`` training rows) is scored on validation in y's
units, and log(1 + y) is kept when it wins by more than ``_GAIN``. The search then runs on
that scale: its trials, ensemble and stack are chosen on the transformed validation scores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from shipyard.automl import score
from shipyard.errors import InvalidInput
from shipyard.model import FitData, Problem, get_family, smearing_calibrator
from shipyard.train._fitting import Parts

__all__ = ["TARGET_TRANSFORMS", "choose_target", "logged"]

TARGET_TRANSFORMS = ("auto", "none", "log")
_SKEW = 1.0  # below this skewness of y, auto keeps y without a probe
_GAIN = 0.01  # relative validation gain log(1 + y) needs to be kept
_PROBE_ROWS = 20_000


def choose_target(
    problem: Problem,
    parts: Parts,
    metric: str,
    *,
    mode: str,
    seed: int,
    threads: int,
    say: Callable[[str], None],
) -> tuple[bool, str]:
    """Whether the search models log(1 + y), and why (empty for classes).

    Raises:
        InvalidInput: ``mode`` is ``log`` and y has negative values.
    """
    if problem.type != "regression":
        return False, ""
    if mode == "none":
        return False, "y as given (target_transform none)"
    y = np.concatenate([parts.y["train"], parts.y["valid"]])
    if float(np.min(y)) < 0:
        if mode == "log":
            raise InvalidInput(
                f"target_transform 'log' models log(1 + y), which needs y >= 0, but "
                f"'{problem.target}' goes down to {float(np.min(y)):g}. Use 'auto' or 'none'."
            )
        return False, "y as given: it has negative values"
    if mode == "log":
        return True, "log(1 + y) (target_transform log)"
    skew = _skewness(y)
    if skew < _SKEW:
        return False, f"y as given: its skewness {skew:.2f} is under {_SKEW:g}"
    say("Probing whether the search should model log(1 + y)")
    on_y, on_log = _probe(problem, parts, metric, seed, threads)
    better = on_log < on_y * (1 - _GAIN) if metric != "r2" else on_log > on_y + _GAIN
    verdict = "log(1 + y)" if better else "y as given"
    note = (
        f"{verdict}: a LightGBM probe scored validation {metric} {on_log:.6g} on "
        f"log(1 + y) against {on_y:.6g} on y (skewness {skew:.2f})"
    )
    return better, note


def logged(parts: Parts) -> Parts:
    """``parts`` with log(1 + y) as every part's target."""
    return replace(parts, y={name: np.log1p(y) for name, y in parts.y.items()})


def _skewness(y: np.ndarray) -> float:
    centered = y - y.mean()
    spread = float(np.sqrt(np.mean(centered**2)))
    return float(np.mean(centered**3) / spread**3) if spread > 0 else 0.0


def _probe(
    problem: Problem, parts: Parts, metric: str, seed: int, threads: int
) -> tuple[float, float]:
    """Validation ``metric`` (in y's units) of LightGBM's defaults fit on y and on
    log(1 + y)."""
    rows = np.random.default_rng(seed).permutation(len(parts.y["train"]))[:_PROBE_ROWS]
    x, y = parts.x["train"][rows], parts.y["train"][rows]
    x_valid, y_valid = parts.x["valid"], parts.y["valid"]
    family = get_family("lightgbm")
    out = []
    for forward in (None, np.log1p):
        data = FitData(
            "regression",
            0,
            x,
            y if forward is None else forward(y),
            x_valid,
            y_valid if forward is None else forward(y_valid),
            parts.categorical,
        )
        fit = family.fit(data, None, seed, threads=threads)
        predicted = family.predict(fit.estimator, x_valid, threads=threads)
        if forward is not None:
            predicted = smearing_calibrator(y_valid, predicted).apply(predicted)
        out.append(score(metric, "regression", y_valid, predicted))
    return out[0], out[1]
