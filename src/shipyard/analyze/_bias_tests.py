"""When a bias metric is flagged: a material gap, beyond chance, on enough rows.

Clarify's metrics are differences (DPL = q_a - q_d), and a fixed limit on a difference means
something at one base rate only: at 1% fraud a group at three times the rate is a 2-point gap,
under any 0.1 limit, while at 50% a 10-point gap is noise on 40 rows. So a flag asks three
questions of the two groups' underlying rates, which hold at any base rate:

- material: the group's rate of the rarer outcome is outside ``[ratio, 1 / ratio]`` times the
  rest's (``[0.8, 1.25]``, the four-fifths rule of DI). Taking the rarer outcome means an
  accuracy of 98% against 99% reads as twice the errors, not as a 1% gap.
- beyond chance: a two-sided two-proportion z-test (pooled), or for a ratio of counts (DCAcc,
  DCR, TE) a z-test on its logarithm by the delta method, at ``p < alpha / tests`` where
  ``tests`` counts every test in the report (Bonferroni): a report over 15 countries then
  raises a false flag with a chance under ``alpha`` in all, not ``15 * alpha``.
- supported: the group has ``min_rows`` rows under the rate and ``min_events`` of each
  outcome, observed or expected at the pooled rate. Under that the normal approximation the
  test uses is poor, and the group is reported as "too few to judge", never flagged. Counting
  expected events too keeps a group of 2,000 with no positive where 22 are expected judgeable,
  and a group with 5 positives where 3 are expected not.

Every verdict comes with its evidence (counts, 95% Wilson intervals, the ratio, the p-value),
so that a face can show why a metric was flagged wherever it shows the flag.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from shipyard.analyze.stats import wilson_interval
from shipyard.errors import InvalidInput

__all__ = ["FlagRule", "log_ratio_test", "rate_test"]

_Z95 = 1.959964


@dataclass(frozen=True)
class FlagRule:
    """The settings of a flag (see the module docstring); the defaults suit most reports.

    Attributes:
        ratio: A rate ratio outside ``[ratio, 1 / ratio]`` is material.
        alpha: The chance of any false flag in a whole report (Bonferroni over its tests).
        min_rows: Rows the group needs under a rate before it is judged.
        min_events: Events of each outcome (observed or expected) the group needs.
    """

    ratio: float = 0.8
    alpha: float = 0.05
    min_rows: int = 30
    min_events: int = 10

    def __post_init__(self) -> None:
        checks = (
            ("ratio", 0 < self.ratio < 1, "a number in (0, 1), e.g. 0.8"),
            ("alpha", 0 < self.alpha < 1, "a probability in (0, 1), e.g. 0.05"),
            ("min_rows", self.min_rows >= 1, "a positive number of rows"),
            ("min_events", self.min_events >= 1, "a positive number of events"),
        )
        for name, ok, expected in checks:
            if not ok:
                raise InvalidInput(
                    f"The '{name}' of a bias flag rule must be {expected}. "
                    f"Got {getattr(self, name)!r} instead."
                )

    def describe(self, tests: int) -> dict[str, Any]:
        """The rule as stored in a report, with the per-test level and a sentence saying it."""
        level = self.alpha / max(tests, 1)
        text = (
            f"A metric is flagged when the group's rate of the rarer outcome is outside "
            f"[{self.ratio:g}, {1 / self.ratio:.3g}] times the rest's, the gap is beyond chance "
            f"(p < {self.alpha:g} / {tests} tests = {level:.2g}), and the group has at least "
            f"{self.min_rows} rows and {self.min_events} events of each outcome."
        )
        return asdict(self) | {"tests": tests, "level": level, "text": text}


def rate_test(
    k_d: float,
    n_d: float,
    k_a: float,
    n_a: float,
    *,
    words: tuple[str, str],
    rule: FlagRule,
    tests: int,
) -> dict[str, Any]:
    """The verdict on two proportions ``k_d / n_d`` (the group) and ``k_a / n_a`` (the rest).

    ``words`` name the two outcomes (e.g. ``("positive", "negative")``); the evidence's text
    counts the rarer one. Returns a JSON-able dict: ``status`` (flagged, ok, not significant,
    too few), ``flag``, the compared ``outcome``, ``group`` and ``rest`` (count, of, rate,
    ci95), ``ratio``, ``p_value``, ``level`` and ``text``.
    """
    pooled = (k_d + k_a) / (n_d + n_a) if n_d + n_a else 0.0
    rare = 0 if pooled <= 0.5 else 1
    if rare:
        k_d, k_a, pooled = n_d - k_d, n_a - k_a, 1 - pooled
    events = min(max(k_d, n_d * pooled), max(n_d - k_d, n_d * (1 - pooled)))
    side = {"group": _side(k_d, n_d), "rest": _side(k_a, n_a)}
    q_d, q_a = (k_d / n_d if n_d else None), (k_a / n_a if n_a else None)
    ratio = q_d / q_a if q_d is not None and q_a else None
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_d + 1 / n_a)) if n_d and n_a else 0.0
    diff = (q_d or 0.0) - (q_a or 0.0)
    p = _two_sided(diff, se)
    material = (ratio is None and bool(q_d)) or (
        ratio is not None and not rule.ratio <= ratio <= 1 / rule.ratio
    )
    supported = min(n_d, n_a) >= rule.min_rows and events >= rule.min_events
    level = rule.alpha / max(tests, 1)
    word = words[rare]
    facts = f"{_side_text(side['group'], word)} vs {_side_text(side['rest'], None)} in the rest"
    if not supported:
        status = "too few"
        text = (
            f"too few to judge: {int(k_d):,} {word} of {int(n_d):,} rows (expected "
            f"{n_d * pooled:.0f} at the overall rate); a flag needs {rule.min_rows} rows and "
            f"{rule.min_events} of each outcome"
        )
    else:
        status = (
            "flagged" if material and p < level else "ok" if not material else "not significant"
        )
        times = "no rate in the rest" if ratio is None else f"{ratio:.2f}x the rest's rate"
        text = f"{facts}: {times}, p = {p:.2g} ({'<' if p < level else '>='} {level:.2g})"
    return {
        "status": status,
        "flag": status == "flagged",
        "outcome": word,
        "group": side["group"],
        "rest": side["rest"],
        "ratio": ratio,
        "p_value": p,
        "level": level,
        "text": text,
    }


def log_ratio_test(
    d: tuple[float, float, float],
    a: tuple[float, float, float],
    *,
    counts: dict[str, tuple[int, int]],
    rows: int,
    rule: FlagRule,
    tests: int,
) -> dict[str, Any]:
    """The verdict on a ratio of counts per group, such as FN / FP, compared across groups.

    ``d`` and ``a`` are ``(top, bottom, shared)`` counts of the group and the rest, where
    ``shared`` is the count in both (TP in ``(TP + FN) / (TP + FP)``). By the delta method
    ``var(log(top / bottom)) = 1/top + 1/bottom - 2 shared / (top bottom)``. ``counts`` names
    the group's and the rest's counts that need ``min_events`` each (for the text and the
    support check); ``rows`` is the group's row count.
    """
    values, ses = [], []
    for top, bottom, shared in (d, a):
        values.append(top / bottom if top > 0 and bottom > 0 else None)
        var = 1 / top + 1 / bottom - 2 * shared / (top * bottom) if top and bottom else 0.0
        ses.append(math.sqrt(max(var, 0.0)))
    x_d, x_a = values
    supported = rows >= rule.min_rows and all(
        min(pair) >= rule.min_events for pair in counts.values()
    )
    shown = ", ".join(f"{name} {g:,} (rest {r:,})" for name, (g, r) in counts.items())
    level = rule.alpha / max(tests, 1)
    group: dict[str, Any] = {"value": x_d}
    base = {"group": group, "rest": {"value": x_a}, "counts": counts, "level": level}
    if not supported or x_d is None or x_a is None:
        text = (
            f"too few to judge: {shown}; a flag needs {rule.min_rows} rows and "
            f"{rule.min_events} of each count in both groups"
        )
        return (
            base
            | {"status": "too few", "flag": False, "ratio": None, "p_value": None}
            | {"text": text}
        )
    log_gap = math.log(x_d / x_a)
    p = _two_sided(log_gap, math.hypot(*ses))
    ci = [x_d * math.exp(-_Z95 * ses[0]), x_d * math.exp(_Z95 * ses[0])]
    ratio = x_d / x_a
    material = not rule.ratio <= ratio <= 1 / rule.ratio
    status = "flagged" if material and p < level else "ok" if not material else "not significant"
    text = (
        f"{x_d:.2f} (95% CI {ci[0]:.2f}-{ci[1]:.2f}) vs {x_a:.2f} in the rest from {shown}: "
        f"{ratio:.2f}x, p = {p:.2g} ({'<' if p < level else '>='} {level:.2g})"
    )
    group["ci95"] = ci
    return (
        base
        | {"status": status, "flag": status == "flagged", "ratio": ratio, "p_value": p}
        | {"text": text}
    )


def _side(k: float, n: float) -> dict[str, Any]:
    return {
        "count": int(k),
        "of": int(n),
        "rate": k / n if n else None,
        "ci95": list(wilson_interval(int(k), int(n))),
    }


def _two_sided(gap: float, se: float) -> float:
    """The two-sided p-value of a normal statistic ``gap / se`` (1 or 0 when ``se`` is 0)."""
    if se <= 0:
        return 1.0 if gap == 0 else 0.0
    return math.erfc(abs(gap) / se / math.sqrt(2))


def _side_text(side: dict[str, Any], word: str | None) -> str:
    lo, hi = side["ci95"]
    rate = "—" if side["rate"] is None else f"{100 * side['rate']:.2f}%"
    what = f" {word}" if word else ""
    return (
        f"{side['count']:,} of {side['of']:,}{what} ({rate}, 95% CI {100 * lo:.2f}-{100 * hi:.2f}%)"
    )
