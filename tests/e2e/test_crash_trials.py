"""Kill -9 at random moments (3 trials per scenario; ``benchmarks/crash_trials.py`` runs 50):
after each kill the project is consistent, garbage collection removes nothing a live
version needs, and no write that a process reported done is lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability._crash import SCENARIOS, run_trials

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_random_kills_leave_a_consistent_project(tmp_path: Path, scenario: str) -> None:
    summary = run_trials(scenario, 3, tmp_path / "p", seed=1, search_budget=5.0)
    assert summary.trials == 3
    assert summary.errors == 0
    assert summary.inconsistencies == []
    assert summary.lost_writes == []
