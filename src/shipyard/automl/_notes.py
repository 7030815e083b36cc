"""Why a search's leaderboard looks the way it does: what each requested family got of the
budget, and what became of the ensemble. A user who asked for six families and sees four
is told why the other two are missing."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["FamilyTally", "family_notes"]


@dataclass
class FamilyTally:
    """What one family's trials came to."""

    trials: int = 0
    """Fits started (duplicates are not fit)."""
    finished: int = 0
    pruned: int = 0
    failed: int = 0
    late: int = 0
    """Fits cut at their time limit (finished early) or cancelled for running late."""
    duplicates: int = 0
    seconds: float = 0.0
    """Seconds its fits took, a cross-validated trial's folds together (where the search's
    time went)."""
    error: str | None = None
    """The first error of a failed trial."""


def family_notes(
    tallies: dict[str, FamilyTally], requested: list[str], stopped_by: str
) -> dict[str, dict[str, Any]]:
    """Per requested family: its counts and, when it was never or only partly tried, why.

    ``note`` is None for a family that had its fill of the search.
    """
    out = {}
    for name in requested:
        tally = tallies.get(name, FamilyTally())
        out[name] = {**asdict(tally), "note": _note(tally, stopped_by)}
    return out


def _note(t: FamilyTally, stopped_by: str) -> str | None:
    if t.trials == 0:
        return {
            "max_trials": "not tried: max_trials was reached before its first trial",
            "converged": "not tried: the search converged before its first trial",
        }.get(stopped_by, "not tried: the time budget ran out before its first trial")
    if t.finished == 0:
        if t.late and t.late == t.failed:
            return (
                f"too slow on this data: its {_n(t.trials, 'trial')} ran past their share "
                "of the time budget"
            )
        if t.pruned == t.trials:
            return f"all {_n(t.trials, 'trial')} pruned: validation loss behind its family"
        first = f": {t.error}" if t.error else ""
        return f"no trial finished ({t.failed} failed, {t.pruned} pruned){first}"
    if t.late >= t.finished:
        return (
            f"too slow on this data: {'its' if t.finished == 1 else 'every'} fit was cut at "
            "the time limit before converging; a larger time budget may improve it"
        )
    if t.trials == 1 and stopped_by == "budget":
        return "only its default configuration was tried before the time budget ran out"
    return None


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
