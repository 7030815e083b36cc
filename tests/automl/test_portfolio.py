"""The warm-start portfolio: shipped, valid for every family's search space, enqueued first."""

from __future__ import annotations

from typing import Any

import numpy as np
import optuna
import pytest

from shipyard.automl import Budget, SearchData, search
from shipyard.automl._portfolio import (
    enqueue_warm_start,
    fits_space,
    load_portfolio,
    warm_start,
)
from shipyard.automl._search import SearchRun
from shipyard.model import FAMILIES, get_family

# The nine datasets benchmarks/automl.py scores on (benchmarks/_automl_data.py): the
# portfolio must be learned elsewhere.
BENCHMARKED = {
    "adult", "mlc_churn", "lending_club", "attrition", "default", "caravan", "breast_cancer",
    "diamonds", "hpc_data",
}  # fmt: skip
PROBLEMS = {"classification": ("binary", "multiclass"), "regression": ("regression",)}


def test_the_portfolio_says_where_it_was_learned_and_never_on_a_benchmark() -> None:
    portfolio = load_portfolio()
    provenance = portfolio["provenance"]
    assert portfolio["version"] == 1
    assert provenance["learned"] and "learn_portfolio.py" in provenance["command"]
    tables = provenance["tables"]
    assert len(tables) >= 10 and not BENCHMARKED & set(tables)
    sources = " ".join(t["source"] for t in tables.values()).lower()
    for name in BENCHMARKED:
        assert name not in sources


def _in_space(family: str, problem: str, params: dict[str, Any]) -> bool:
    """Whether ``params`` are exactly what the family's ``suggest`` samples, in range."""
    study = optuna.create_study()
    study.enqueue_trial(params)
    trial = study.ask()
    get_family(family).suggest(trial, problem)  # type: ignore[arg-type]
    if trial.params != params:
        return False
    return all(
        d._contains(d.to_internal_repr(trial.params[name]))
        for name, d in trial.distributions.items()
    )


@pytest.mark.parametrize("kind", ["classification", "regression"])
@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_family_has_configurations_valid_for_its_search_space(family, kind) -> None:
    entries = load_portfolio()["families"][kind][family]
    assert 1 <= len(entries) <= 5
    for entry in entries:
        assert entry["rows"] > 0 and 0.0 <= entry["mean_regret"] <= 1.0
        for problem in PROBLEMS[kind]:
            assert entry["params"] == {} or _in_space(family, problem, entry["params"]), entry
    regrets = [e["mean_regret"] for e in entries]
    assert regrets == sorted(regrets, reverse=True)  # each addition lowers the regret


def test_presets_for_large_data_say_their_source_and_fit_the_search_space() -> None:
    presets = load_portfolio()["presets"]
    assert presets
    for kind, families in presets.items():
        for family, entries in families.items():
            for entry in entries:
                assert entry["source"] and entry["min_rows"] > 2_000  # beyond every table
                for problem in PROBLEMS[kind]:
                    assert _in_space(family, problem, entry["params"]), entry


def test_a_preset_is_tried_right_after_the_strongest_only_on_large_data() -> None:
    (kind, families), *_ = load_portfolio()["presets"].items()
    (family, (preset, *_)), *_ = families.items()
    problem = PROBLEMS[kind][0]
    small = warm_start(family, problem, preset["min_rows"] - 1)  # type: ignore[arg-type]
    large = warm_start(family, problem, preset["min_rows"])  # type: ignore[arg-type]
    assert preset["params"] not in small
    assert large[0] == small[0] and large[1] == preset["params"]
    assert len(large) == len(small)  # it takes a learned configuration's place


def test_larger_data_gets_fewer_configurations_strongest_first() -> None:
    for family in FAMILIES:
        small = warm_start(family, "binary", 1_000)
        large = warm_start(family, "binary", 5_000_000)
        assert len(large) == 1 and large[0] == small[0]
        first = load_portfolio()["families"]["classification"][family][0]["params"]
        assert small[0] == first


def test_the_search_enqueues_the_portfolio_first_then_missing_defaults() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = (x[:, 0] > 0).astype(np.int64)
    data = SearchData("binary", 2, x[:140], y[:140], x[140:], y[140:], [])
    families = ["lightgbm", "linear", "catboost"]
    run = SearchRun(data, metric="roc_auc", families=families, budget=Budget(60),
                    max_trials=None, log=None, on_progress=None)  # fmt: skip
    study = run.study(0)
    waiting = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,))
    starts = {f: warm_start(f, "binary", 140) for f in families}
    expected = [
        {"family": f, **starts[f][rank]}
        for rank in range(max(map(len, starts.values())))
        for f in families
        if rank < len(starts[f])
    ] + [{"family": f} for f in families if {} not in starts[f]]
    assert [t.system_attrs["fixed_params"] for t in waiting] == expected
    assert enqueue_warm_start(optuna.create_study(), families, "binary", 140) == len(expected)


def test_a_search_runs_the_portfolio_configurations_as_its_first_trials() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 4))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)
    data = SearchData("binary", 2, x[:200], y[:200], x[200:], y[200:], [])
    families = ["linear", "lightgbm"]
    result = search(data, metric="roc_auc", families=families, budget=Budget(30),
                    max_trials=2, ensemble=False)  # fmt: skip
    assert result.trials == 2  # the warm-start trials never reached are not counted
    ran = {c.trial: (c.family.name, c.fit.params) for c in result.candidates}
    for number, family in enumerate(families):
        name, params = ran[number]
        assert name == family
        first = warm_start(family, "binary", 200)[0]
        expected = get_family(family).suggest(optuna.trial.FixedTrial(first), "binary") if \
            first else get_family(family).defaults  # fmt: skip
        for key, value in expected.items():
            assert params.get(key) == value, (family, key)


def test_a_configuration_the_search_space_no_longer_holds_is_not_enqueued(monkeypatch) -> None:
    linear = type(get_family("linear"))

    def narrower(self: Any, trial: Any, problem: str) -> dict[str, Any]:
        return {"C": trial.suggest_float("linear.C", 50.0, 100.0)}

    assert fits_space("linear", "binary", {"linear.C": 0.5, "linear.balanced": True})
    monkeypatch.setattr(linear, "suggest", narrower)
    assert not fits_space("linear", "binary", {"linear.C": 0.5})
    assert not fits_space("linear", "binary", {"linear.C": 60.0, "linear.balanced": True})
    study = optuna.create_study()
    enqueue_warm_start(study, ["linear"], "binary", 100)
    fixed = [t.system_attrs["fixed_params"] for t in study.get_trials(deepcopy=False)]
    assert fixed == [{"family": "linear"}]  # only the defaults are left
