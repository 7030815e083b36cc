"""How an AutoML regression models y: as given, as log(1 + y), or both side by side.

Prices, amounts and counts are skewed and their effects multiply: a tree model of y spends
its splits on the few large values, a model of log(1 + y) fits the many multiplicative ones.
Neither wins everywhere, and they err differently. ``auto`` (the default) searches both when
y is never negative and skewed: each booster has a log twin
(:mod:`shipyard.model.families.log_target`) that predicts in y's units, every trial is
scored in y's units, and the ensemble mixes models of both scales. On ``diamonds``, 60 s
searches at seeds 0, 1, 2 scored a test RMSE of 523.8, 529.3, 526.7 with the twins against
526.9, 533.8, 526.7 on y alone (``benchmarks/automl.py``).

``log`` models log(1 + y) with every family, the whole model mapped back by Duan's smearing
(:func:`shipyard.model.smearing_calibrator`), so its explanations add up in log(1 + y); on
``diamonds`` that search scored 542.8 against 532.8 on y, its trials and ensemble chosen on
the log scale. ``none`` keeps y.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from shipyard.errors import InvalidInput
from shipyard.model import Problem, log_twin_of, twinned
from shipyard.train._fitting import Parts

__all__ = ["TARGET_TRANSFORMS", "choose_target", "logged", "with_twins"]

TARGET_TRANSFORMS = ("auto", "none", "log")
_SKEW = 1.0  # below this skewness of y, auto keeps y alone


def choose_target(
    problem: Problem, parts: Parts, families: list[str], mode: str
) -> tuple[str, str]:
    """How the search models y: ``"y"``, ``"log"`` (the whole model on log(1 + y)) or
    ``"both"`` (``families``' log twins beside them), and why (empty for classes).

    Raises:
        InvalidInput: ``families`` has a log twin and the target is not a regression's,
            or ``mode`` is ``log`` (then y has negative values, or a twin is searched).
    """
    doubled = [f for f in families if twinned(f) != f]
    if problem.type != "regression":
        if doubled:
            raise InvalidInput(
                f"{doubled[0]} models log(1 + y) of a regression target, and "
                f"'{problem.target}' is a {problem.type} target. Search "
                f"{twinned(doubled[0])} instead."
            )
        return "y", ""
    if mode == "none":
        return "y", "y as given (target_transform none)"
    y = np.concatenate([parts.y["train"], parts.y["valid"]])
    if float(np.min(y)) < 0:
        if mode == "log":
            raise InvalidInput(
                f"target_transform 'log' models log(1 + y), which needs y >= 0, but "
                f"'{problem.target}' goes down to {float(np.min(y)):g}. Use 'auto' or 'none'."
            )
        return "y", "y as given: it has negative values"
    if mode == "log":
        if doubled:
            raise InvalidInput(
                f"target_transform 'log' fits every model on log(1 + y), and {doubled[0]} "
                f"already does: it would model log(1 + log(1 + y)). Search "
                f"{twinned(doubled[0])} instead, or use 'auto'."
            )
        return "log", "log(1 + y) (target_transform log)"
    skew = _skewness(y)
    if skew < _SKEW:
        return "y", f"y as given: its skewness {skew:.2f} is under {_SKEW:g}"
    twins = [t for t in map(log_twin_of, families) if t]
    if not twins:
        return "y", "y as given: none of the searched families has a log(1 + y) twin"
    return "both", (
        f"y and log(1 + y) (skewness {skew:.2f}): {', '.join(twins)} search log(1 + y) "
        "beside the others, every model scored in y's units"
    )


def with_twins(families: list[str]) -> list[str]:
    """``families`` with each one's log twin right after it (once)."""
    out = []
    for name in families:
        out += [name, *filter(None, [log_twin_of(name)])]
    return list(dict.fromkeys(out))


def logged(parts: Parts) -> Parts:
    """``parts`` with log(1 + y) as every part's target."""
    return replace(parts, y={name: np.log1p(y) for name, y in parts.y.items()})


def _skewness(y: np.ndarray) -> float:
    centered = y - y.mean()
    spread = float(np.sqrt(np.mean(centered**2)))
    return float(np.mean(centered**3) / spread**3) if spread > 0 else 0.0
