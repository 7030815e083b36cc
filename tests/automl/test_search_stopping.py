"""A search's bookkeeping, its stops (budget ceiling, convergence, duplicates) and its notes."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest

from shipyard.automl import MAX_BUDGET, Budget, SearchData, search
from shipyard.automl._notes import FamilyTally, family_notes
from shipyard.automl._stopping import Convergence, TriedParams
from shipyard.errors import InvalidInput
from shipyard.evaluation.console import search_notes
from shipyard.model import get_family
from shipyard.train import train


def _data(rng: np.random.Generator, n: int = 240) -> SearchData:
    x = rng.normal(size=(n, 3))
    y = (x[:, 0] + rng.normal(scale=0.8, size=n) > 0).astype(np.int64)
    cut = int(0.7 * n)
    return SearchData("binary", 2, x[:cut], y[:cut], x[cut:], y[cut:], [])


class RecordingLog:
    """A trial log that keeps each run's final state, and can fail one trial's finish."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.fail_on = fail_on
        self.state: dict[str, str] = {}
        self.errors: dict[str, str] = {}

    def start(self, number: int, family: str, params: dict[str, Any]) -> str:
        run_id = f"run-{number}"
        self.state[run_id] = "running"
        return run_id

    def finish(self, run_id: str | None, candidate: Any, fit: Any, outcome: str) -> None:
        assert run_id is not None
        if run_id == f"run-{self.fail_on}":
            raise RuntimeError("the catalog refused the curves")
        self.state[run_id] = outcome

    def fail(self, run_id: str | None, error: BaseException) -> None:
        assert run_id is not None
        self.state[run_id] = "failed"
        self.errors[run_id] = str(error)


def test_a_budget_past_seven_days_is_refused_with_the_limit() -> None:
    with pytest.raises(InvalidInput, match=r"maximum of 604,800 s \(7 days\)"):
        Budget(1e308)
    assert Budget(MAX_BUDGET).seconds == MAX_BUDGET


def test_every_trial_of_a_search_past_the_kept_candidates_ends_finished(
    project, ingest, frame_of, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A candidate ranked past those whose estimators are kept (12; 2 here, so that a few
    # trials show it) lost its estimator before its diagnostics were recorded: the error
    # was swallowed and its run stayed "running", to be listed later as dead.
    monkeypatch.setattr("shipyard.automl._search._KEEP", 2)
    ref = ingest(frame_of(300, "binary"))
    result = train(
        project, ref, "label", model_name="m", time_budget=600, families=["linear"], max_trials=10
    )
    trials = [r for r in project.catalog.list_runs("m") if r.tags.get("kind") == "trial"]
    assert result.search["finished"] == 10 and result.search["failed"] == 0
    assert len(trials) == 10
    assert {r.status for r in trials} == {"finished"}
    assert all("diagnostics" in r.outputs and "valid_score" in r.metrics for r in trials)


def test_an_error_recording_a_trial_fails_that_trial_with_the_error(rng) -> None:
    log = RecordingLog(fail_on=2)
    result = search(
        _data(rng),
        metric="roc_auc",
        families=["linear"],
        budget=Budget(600),
        max_trials=5,
        log=log,
    )
    assert log.state["run-2"] == "failed"
    assert "the catalog refused the curves" in log.errors["run-2"]
    assert "running" not in log.state.values()
    assert result.failed == 1 and len(result.candidates) == 5
    assert 2 not in {c.trial for c in result.candidates}
    assert "the catalog refused the curves" in result.families["linear"]["error"]


def test_convergence_waits_twice_the_trials_that_found_the_best() -> None:
    c = Convergence(higher_is_better=True, min_patience=5)
    for value in (0.5, 0.6, 0.7):
        c.record(value)
    assert c.at_best == 3 and c.patience == 6
    for _ in range(5):
        c.record(0.7 + 1e-6)  # a gain below the tolerance is no gain
        assert not c.converged()
    c.record(None)
    assert c.converged()
    lower = Convergence(higher_is_better=False, min_patience=1)
    lower.record(2.0)
    lower.record(1.0)
    assert lower.best == 1.0 and lower.at_best == 2


def test_tried_params_match_to_four_significant_digits() -> None:
    tried = TriedParams()
    tried.add("linear", {"C": 0.123456, "balanced": True}, 3, 0.9)
    earlier = tried.get("linear", {"balanced": True, "C": 0.1234561})
    assert earlier is not None and (earlier.number, earlier.score) == (3, 0.9)
    assert tried.get("linear", {"C": 0.1236, "balanced": True}) is None
    assert tried.get("lightgbm", {"C": 0.123456, "balanced": True}) is None


def test_a_search_on_a_tiny_space_skips_duplicates_and_stops_converged(
    rng, monkeypatch: pytest.MonkeyPatch
) -> None:
    linear = type(get_family("linear"))

    def two_values(self: Any, trial: Any, problem: str) -> dict[str, Any]:
        return {"C": trial.suggest_categorical("linear.C", [0.1, 1.0])}

    monkeypatch.setattr(linear, "suggest", two_values)
    log = RecordingLog()
    result = search(_data(rng), metric="roc_auc", families=["linear"], budget=Budget(600), log=log)
    assert result.stopped_by == "converged"
    assert result.converged_after is not None and result.converged_after >= 50
    assert len(log.state) <= 3  # the defaults and the two values: each fit and recorded once
    assert result.duplicates == result.converged_after - len(log.state) > 40
    notes = search_notes({"converged_after": result.converged_after, "duplicates": 47})
    assert any(f"converged after {result.converged_after}" in line for line in notes)
    assert any("47 proposals repeated a trial" in line for line in notes)


def test_notes_say_why_a_family_is_missing_or_short() -> None:
    tallies = {
        "lightgbm": FamilyTally(trials=9, finished=9),
        "catboost": FamilyTally(trials=2, failed=2, late=2),
        "xgboost": FamilyTally(trials=1, finished=1, late=1),
        "random_forest": FamilyTally(trials=1, finished=1),
    }
    requested = ["lightgbm", "catboost", "xgboost", "random_forest", "extra_trees"]
    notes = family_notes(tallies, requested, "budget")
    assert notes["lightgbm"]["note"] is None
    assert "too slow on this data" in notes["catboost"]["note"]
    assert "cut at the time limit" in notes["xgboost"]["note"]
    assert "only its default configuration" in notes["random_forest"]["note"]
    assert "time budget ran out before its first trial" in notes["extra_trees"]["note"]
    lines = search_notes({"family_trials": notes, "ensemble_note": "not built: off"})
    assert len(lines) == 5 and lines[-1] == "  ensemble: not built: off"
    assert not any("lightgbm" in line for line in lines)


@pytest.mark.parametrize(
    ("ensemble", "max_trials", "note"),
    [(False, 2, "turned off"), (True, 1, "only one model finished")],
)
def test_the_search_says_why_no_ensemble_was_built(rng, ensemble, max_trials, note) -> None:
    result = search(
        _data(rng),
        metric="roc_auc",
        families=["linear"],
        budget=Budget(600),
        ensemble=ensemble,
        max_trials=max_trials,
    )
    assert result.ensemble is None
    assert note in result.ensemble_note


def test_notes_say_where_the_search_spent_its_fit_time(rng) -> None:
    tallies = {
        "lightgbm": FamilyTally(trials=9, finished=9, seconds=4.2),
        "extra_trees": FamilyTally(trials=3, finished=3, seconds=31.0),
        "linear": FamilyTally(trials=1, finished=1, seconds=0.0),
    }
    notes = family_notes(tallies, ["lightgbm", "extra_trees", "linear"], "max_trials")
    lines = search_notes({"family_trials": notes})
    # the slowest family first; one that took no measurable time is left out
    assert lines == ["  fit time: extra_trees 31.0 s (3 trials), lightgbm 4.2 s (9 trials)"]
    # a search counts its trials' fit seconds, pruned ones too
    x, y = rng.normal(size=(300, 3)), rng.integers(0, 2, 300)
    result = search(
        SearchData("binary", 2, x[:200], y[:200], x[200:], y[200:], []),
        metric="roc_auc", families=["lightgbm", "linear"], budget=Budget(60), max_trials=4,
    )  # fmt: skip
    spent = {name: t["seconds"] for name, t in result.families.items()}
    assert spent["lightgbm"] > 0 and spent["linear"] > 0


def test_a_trial_asked_for_after_the_last_one_started_is_not_counted() -> None:
    """Two trials at once under max_trials=1: the second thread asks Optuna for a trial
    before the first has ended, and the search refuses it; it ran nothing, so it is not a
    trial (counted, it made the portfolio test flaky under load)."""
    if (os.cpu_count() or 1) < 2:
        pytest.skip("trials run one at a time on one core")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 4))
    y = (x[:, 0] > 0).astype(np.int64)
    data = SearchData("binary", 2, x[:200], y[:200], x[200:], y[200:], [])
    for _ in range(3):
        result = search(data, metric="roc_auc", families=["linear", "lightgbm"],
                        budget=Budget(30), max_trials=1, ensemble=False, threads=2)  # fmt: skip
        assert result.execution["parallel_trials"] == 2
        assert (result.trials, len(result.candidates)) == (1, 1)
