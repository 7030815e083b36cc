"""A yes/no column read as booleans still answers to the file's own words."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shipyard._labels import boolean_word, match_value
from shipyard.analyze import bias_dataset
from shipyard.errors import InvalidInput, NotFound
from shipyard.ingest import ingest_path
from shipyard.project import Project
from shipyard.train import train


@pytest.mark.parametrize(
    ("wanted", "present", "found"),
    [
        pytest.param("yes", [False, True], True, id="yes"),
        pytest.param("No", [np.True_, np.False_], False, id="numpy-no"),
        pytest.param("t", [False, True], True, id="t"),
        pytest.param("2", [1, 2], 2, id="number-as-text"),
        pytest.param("yes", ["yes", "no"], "yes", id="words-kept"),
        pytest.param("maybe", [False, True], None, id="not-a-word"),
        pytest.param("yes", [0, 1], None, id="integers-are-not-booleans"),
    ],
)
def test_match_value(wanted, present, found) -> None:
    assert match_value(wanted, present) == found
    assert boolean_word("YES") is True and boolean_word(3) is None


@pytest.fixture
def loans(project: Project, tmp_path: Path, rng: np.random.Generator) -> Project:
    n = 400
    income = rng.normal(50, 10, n)
    deny = np.where(income + rng.normal(0, 10, n) < 45, "yes", "no")
    group = rng.choice(["a", "b"], n)
    lines = [
        "income,group,deny",
        *(f"{i:.4f},{g},{d}" for i, g, d in zip(income, group, deny, strict=True)),
    ]
    path = tmp_path / "loans.csv"
    path.write_text("\n".join(lines) + "\n")
    version = ingest_path(project, path, "loans").version
    assert dict((c.name, c.type) for c in version.columns)["deny"] == "BOOLEAN"  # the sniffer
    return project


def test_bias_and_train_take_the_files_word_for_a_boolean_label(loans: Project) -> None:
    report = bias_dataset(loans, "loans", label="deny", positive="yes", facet="group").payload
    assert report["positive"] == [True]
    result = train(loans, "loans", "deny", positive="yes")
    assert result.problem.positive is True
    with pytest.raises(NotFound, match="give yes or no"):
        bias_dataset(loans, "loans", label="deny", positive="maybe", facet="group")
    with pytest.raises(InvalidInput, match="give yes or no"):
        train(loans, "loans", "deny", positive="maybe")
