"""The time budget of an AutoML job: one clock for the whole train(), refit included."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from shipyard.errors import InvalidInput

__all__ = ["MAX_BUDGET", "MIN_BUDGET", "Budget", "Clock"]

Clock = Callable[[], float]

MIN_BUDGET = 5.0
"""Seconds below which a search cannot both try a model and refit it."""

MAX_BUDGET = 7 * 24 * 3600.0
"""Seconds (7 days) past which a budget is a typo, not a plan: no search needs longer, and
a converged one stops well before (see :mod:`shipyard.automl._stopping`)."""


class Budget:
    """Seconds granted to a job, measured on an injectable clock from its start.

    Args:
        seconds: The whole budget; the job must end within it (plus a few percent).
        clock: Monotonic seconds; tests inject a fake one.

    Raises:
        InvalidInput: ``seconds`` is not a finite number between :data:`MIN_BUDGET` and
            :data:`MAX_BUDGET`.
    """

    def __init__(self, seconds: float, clock: Clock = time.monotonic) -> None:
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not math.isfinite(seconds)
            or seconds <= 0
        ):
            raise InvalidInput(
                "The 'time_budget' parameter of train must be a positive number of seconds. "
                f"Got {seconds!r} instead."
            )
        if seconds < MIN_BUDGET:
            raise InvalidInput(
                f"A time budget of {seconds:g} s is too small to search and refit a model; "
                f"give at least {MIN_BUDGET:g} seconds (30 or more for a useful search)."
            )
        if seconds > MAX_BUDGET:
            raise InvalidInput(
                f"A time budget of {seconds:g} s is more than the maximum of "
                f"{MAX_BUDGET:,.0f} s (7 days); give at most {MAX_BUDGET:.0f} seconds. "
                "A search that stops improving ends on its own before its budget."
            )
        self.seconds = float(seconds)
        self.clock = clock
        self.started = clock()
        self.reserved = 0.0

    @property
    def deadline(self) -> float:
        return self.started + self.seconds

    def elapsed(self) -> float:
        return self.clock() - self.started

    def left(self) -> float:
        """Seconds left until the deadline (negative once past it)."""
        return self.deadline - self.clock()

    def reserve(self, seconds: float) -> None:
        """Keep ``seconds`` more for the work after the search (the evaluation report)."""
        self.reserved += seconds

    def overhead(self) -> float:
        """Seconds kept for what follows the search besides refitting: the bundle and the
        catalog writes (2% of the budget, at least 0.75 s), and what was reserved (the
        evaluation, measured before the search; the monitoring baseline's bound)."""
        return max(0.75, 0.02 * self.seconds) + self.reserved
