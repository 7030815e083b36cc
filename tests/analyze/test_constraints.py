from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from rich.console import Console

from shipyard.analyze import (
    check_constraints,
    dump_constraints_yaml,
    load_constraints_yaml,
    print_check_summary,
    profile_parquet,
    suggest_constraints,
)
from shipyard.errors import InvalidInput


@pytest.fixture
def baseline(rng):
    n = 1_000
    return {
        "id": np.arange(n),
        "age": rng.integers(18, 91, n),
        "country": rng.choice(["FR", "DE", "ES"], n),
        "score": pa.array(rng.random(n), mask=rng.random(n) < 0.1),
        "calls": rng.poisson(3, n),
        "flag": rng.random(n) < 0.5,
    }


@pytest.fixture
def suggested(baseline, write_parquet):
    return suggest_constraints(profile_parquet(write_parquet(baseline, name="base")))


def _rules(c, column):
    return {r["rule"]: r for r in c["rules"] if r["column"] == column}


def test_suggested_rules_follow_the_profile(suggested):
    assert set(_rules(suggested, "id")) == {"present", "type", "completeness", "unique"}
    age = _rules(suggested, "age")
    assert (age["range"]["min"], age["range"]["max"]) == (18, 90)
    assert age["type"]["expected"] == "integer" and age["completeness"]["min"] == 1.0
    assert _rules(suggested, "country")["allowed_values"]["values"] == ["DE", "ES", "FR"]
    score = _rules(suggested, "score")["completeness"]
    assert score["severity"] == "warning" and 0.8 <= score["min"] < 0.9
    assert _rules(suggested, "flag")["type"]["expected"] == "boolean"


def test_data_that_was_profiled_passes(baseline, suggested, write_parquet):
    report = check_constraints(write_parquet(baseline, files=2), suggested)
    assert report["passed"] and report["violations"] == []
    assert report["rows"] == 1_000 and report["rules_checked"] == len(suggested["rules"])


def test_planted_violations_are_each_found_and_nothing_else(baseline, suggested, write_parquet):
    bad = dict(baseline)
    age = baseline["age"].copy()
    age[[5, 17, 999]] = [150, -1, 200]
    bad["age"] = age
    country = baseline["country"].copy()
    country[[3, 4]] = "XX"
    bad["country"] = country
    ids = baseline["id"].copy()
    ids[10] = ids[11]
    bad["id"] = ids
    bad["score"] = pa.array(np.full(1_000, 0.5), mask=np.arange(1_000) % 2 == 0)
    bad["calls"] = baseline["calls"].astype(str)
    del bad["flag"]
    report = check_constraints(write_parquet(bad, files=2, name="bad"), suggested)
    found = {(v["column"], v["rule"]): v for v in report["violations"]}
    assert set(found) == {
        ("age", "range"),
        ("country", "allowed_values"),
        ("id", "unique"),
        ("score", "completeness"),
        ("calls", "type"),
        ("flag", "present"),
    }
    assert not report["passed"]
    assert report["counts"] == {"error": 3, "warning": 3}
    rng_v = found[("age", "range")]
    assert rng_v["count"] == 3 and rng_v["found"] == "[-1, 200]" and rng_v["expected"] == "[18, 90]"
    assert [(e["row"], e["value"]) for e in rng_v["examples"]] == [(5, 150), (17, -1), (499, 200)]
    cat = found[("country", "allowed_values")]
    assert cat["count"] == 2 and cat["found"] == [{"value": "XX", "count": 2}]
    assert found[("id", "unique")]["count"] == 1
    assert found[("id", "unique")]["examples"] == [{"value": 11, "occurrences": 2}]
    assert found[("score", "completeness")]["found"] == 0.5
    assert found[("calls", "type")]["found"].startswith("string")
    assert found[("flag", "present")]["found"] == "absent"
    json.dumps(report, allow_nan=False)
    console = Console(record=True, width=200)
    print_check_summary(report, console)
    text = console.export_text()
    assert "Data quality failed" in text and "3 error(s), 3 warning(s)" in text
    assert "row 5: 150" in text and "XX (2)" in text


def test_yaml_round_trip(suggested):
    text = dump_constraints_yaml(suggested)
    assert "rule: allowed_values" in text
    assert load_constraints_yaml(text) == suggested


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("rules: [\n  {column: a, rule: present\n", r"not valid YAML at line \d+"),
        ("- a\n- b\n", r"top level: expected a mapping"),
        ("rules: {a: 1}\n", r"rules: expected a list"),
        ("rules:\n- {column: a, rule: rnage, min: 1}\n", r"unknown rule 'rnage'\. Did you mean"),
        (
            "rules:\n- {column: a, rule: range, maxx: 1}\n",
            r"unknown key 'maxx'\. Did you mean 'max'",
        ),
        ("rules:\n- {column: a, rule: range}\n", r"give min, max or both"),
        ("rules:\n- {column: a, rule: range, min: 5, max: 1}\n", r"min 5 is above max 1"),
        ("rules:\n- {column: a, rule: completeness, min: 2}\n", r"fraction between 0 and 1"),
        ("rules:\n- {column: a, rule: present, severity: fatal}\n", r"'error' or 'warning'"),
        ("rules:\n- {column: a, rule: type, expected: text}\n", r"expected must be one of"),
        ("rules:\n- {rule: present}\n", r"'column' must be a column name"),
        ("version: 9\nrules: []\n", r"reads version 1"),
    ],
)
def test_bad_constraints_file(text, match):
    with pytest.raises(InvalidInput, match=match):
        load_constraints_yaml(text)


def test_values_of_the_wrong_type_are_a_clear_error(baseline, write_parquet):
    rules = {"rules": [{"column": "age", "rule": "allowed_values", "values": ["old", "young"]}]}
    with pytest.raises(InvalidInput, match="values have the column's type"):
        check_constraints(write_parquet(baseline), rules)


def test_suggest_needs_a_profile():
    with pytest.raises(InvalidInput, match="expects a profile"):
        suggest_constraints({"rules": []})
