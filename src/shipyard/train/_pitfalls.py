"""What a training job checks besides the split, each finding saying what it saw and what to do.

- Columns left out of the features by default: dates and times (what a model learns from
  a calendar rarely holds in the months it will score), identifiers (it would memorize rows),
  and columns Shipyard wrote itself (a model's scores fed back). ``keep`` names the ones to
  use anyway.
- Too little data: a learning curve, the quick model fit on 25%, 50% and 100% of the
  training rows (at most 50,000, nested samples; each fit stops early on validation) and
  scored on validation. It still rises when the last doubling gains more than chance moves
  the score (about ``0.15 / sqrt(n)`` for ``n`` rows of the rarer class in validation, at
  least 0.005) and the whole curve gains more than 1.5 times that: then more rows would help.
- An untuned model: one fit with default parameters and no search, recorded in the
  version's lineage (``tuning``) so a promotion gate can ask for a search.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from shipyard.analyze import identifiers, quick_fit, quick_metric, quick_score
from shipyard.errors import InvalidInput
from shipyard.model import is_text_timestamps

if TYPE_CHECKING:
    from shipyard.model import Problem
    from shipyard.train._fitting import Parts
    from shipyard.train._spec import TrainSpec

__all__ = [
    "curve_finding",
    "learning_curve",
    "left_out",
    "tuning",
    "tuning_finding",
    "why_left_out",
]

CURVE_ROWS = 50_000  # training rows the curve is drawn on, at most
CURVE_VALID_ROWS = 20_000
FRACTIONS = (0.25, 0.5, 1.0)
_MIN_ROWS = 40  # the smallest fraction must hold this many rows
_MIN_GAIN = 0.005


def left_out(
    frame: pd.DataFrame,
    written: dict[str, str],
    *,
    excluded: Sequence[str],
    keep: Sequence[str],
) -> dict[str, str]:
    """Columns that would become features but are left out by default, with the reason.

    Args:
        frame: The labelled rows.
        written: Columns Shipyard wrote (see :func:`shipyard.lake.read_written`).
        excluded: Columns already out (the target, ``--exclude``, the split's columns).
        keep: Columns asked for by name: never left out.

    Raises:
        InvalidInput: A column both excluded and kept.
    """
    both = sorted(set(excluded) & set(keep))
    if both:
        raise InvalidInput(
            f"Column(s) {', '.join(both)} are both excluded and kept as features; drop one of "
            "--exclude and --keep-column for each."
        )
    return why_left_out(frame, written, [c for c in frame.columns if c not in (*excluded, *keep)])


def why_left_out(
    frame: pd.DataFrame, written: dict[str, str], columns: Sequence[str]
) -> dict[str, str]:
    """Which of ``columns`` a job leaves out by default, and why: the columns Shipyard
    wrote, dates and times, identifiers."""
    out: dict[str, str] = {}
    for name in columns:
        if name in written:
            out[name] = f"written by Shipyard, the {written[name]}: a model's output fed back"
        elif pd.api.types.is_datetime64_any_dtype(frame[name]) or is_text_timestamps(frame[name]):
            out[name] = "a date or time: what a model learns from the calendar rarely holds later"
    ids = identifiers(frame, [c for c in columns if c not in out])
    out.update({name: f"an identifier: {why}" for name, why in ids.items()})
    return out


def learning_curve(problem: Problem, parts: Parts, seed: int) -> dict[str, Any]:
    """The quick model's validation score on 25%, 50% and 100% of the training rows (at
    most 50,000 of them), and the verdict: ``status`` ok or warning, ``message``."""
    x, y = parts.x["train"], parts.y["train"]
    rng = np.random.default_rng(seed)
    total = len(y)
    order = rng.permutation(total)[:CURVE_ROWS]
    valid = rng.permutation(len(parts.y["valid"]))[:CURVE_VALID_ROWS]
    x_valid, y_valid = parts.x["valid"][valid], parts.y["valid"][valid]
    sizes = [int(f * len(order)) for f in FRACTIONS]
    if sizes[0] < _MIN_ROWS:
        return _not_checked(f"{total:,} training rows are too few to draw a learning curve on")
    metric = quick_metric(problem.type, y)
    scores: list[float] = []
    for size in sizes:
        rows = order[:size]
        try:
            predicted, _ = quick_fit(
                problem.type,
                x[rows],
                y[rows],
                x_valid,
                seed=seed,
                n_classes=len(problem.classes),
                stop_on=(x_valid, y_valid),
            )
        except ValueError as exc:  # a class missing from the smallest part, say
            return _not_checked(f"the quick model could not fit a part ({exc})")
        value = quick_score(metric, y_valid, predicted)
        if value is None:
            return _not_checked(f"validation {metric} is undefined on these rows")
        scores.append(value)
    curve = {"metric": metric, "rows": sizes, "scores": scores, "training_rows": total}
    return {**curve, **_verdict(curve, _noise(problem, y_valid))}


def _noise(problem: Problem, y_valid: np.ndarray) -> float:
    """How much a validation score moves by chance, roughly: a gain below it is no gain."""
    n = len(y_valid)
    if problem.type == "binary":
        n = int(min(y_valid.sum(), n - y_valid.sum()))
    return max(_MIN_GAIN, 0.15 / math.sqrt(max(n, 1)))


def _verdict(curve: dict[str, Any], noise: float) -> dict[str, Any]:
    metric, rows, scores, total = (
        curve["metric"],
        curve["rows"],
        curve["scores"],
        curve["training_rows"],
    )
    shown = " -> ".join(f"{s:.3f}" for s in scores)
    seen = f"validation {metric} {shown} on {', '.join(f'{r:,}' for r in rows)} training rows"
    gain = scores[-1] - scores[-2]
    if gain <= noise or scores[-1] - scores[0] <= 1.5 * noise:
        return {
            "status": "ok",
            "message": f"The learning curve no longer rises ({seen}): more rows of the same "
            "kind would help little; better features would.",
        }
    if rows[-1] < total:
        return {
            "status": "ok",
            "message": f"The learning curve still rises on a sample ({seen}); the model trains "
            f"on all {total:,} rows, which is what more data gives.",
        }
    return {
        "status": "warning",
        "message": f"Too little data: the learning curve still rises ({seen}; +{gain:.3f} from "
        "half to all of the rows), so more labelled rows would still improve the model. "
        "Collect more, or keep the model simple (fewer, stronger features; more "
        "regularization).",
    }


def _not_checked(why: str) -> dict[str, Any]:
    return {"status": "not checked", "message": f"No learning curve: {why}."}


def curve_finding(curve: dict[str, Any]) -> dict[str, Any] | None:
    """The learning curve as a training finding, when it warns."""
    if curve.get("status") != "warning":
        return None
    return {"check": "too_little_data", "severity": "warning", "message": curve["message"]}


def tuning(spec: TrainSpec) -> dict[str, Any]:
    """How the model's parameters were chosen: ``searched`` (an AutoML search), ``params``
    (``search``, ``given`` or ``default``) and ``untuned`` (one fit with defaults)."""
    search = spec.search
    if search.automl:
        return {"searched": True, "params": "search", "untuned": False}
    given = bool(search.params)
    return {"searched": False, "params": "given" if given else "default", "untuned": not given}


def tuning_finding(spec: TrainSpec) -> dict[str, Any] | None:
    """An untuned model as a training finding (information: it is recorded, not refused)."""
    if not tuning(spec)["untuned"]:
        return None
    return {
        "check": "untuned",
        "severity": "info",
        "message": f"One {spec.search.family} fit with its default parameters and no search "
        "(recorded as lineage.tuning.untuned). Give --time-budget SECONDS to search; a "
        "promotion gate can require one.",
    }
