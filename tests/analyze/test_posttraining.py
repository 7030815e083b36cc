from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from shipyard.analyze import (
    POSTTRAINING_METRICS,
    posttraining_bias,
    print_posttraining_summary,
    render_posttraining_html,
    render_posttraining_section,
)
from shipyard.errors import InvalidInput


def _rows(facet_value, tp=0, fp=0, fn=0, tn=0):
    """Rows ``(y_true, y_pred, facet)`` with exactly these confusion counts."""
    y = [1] * tp + [0] * fp + [1] * fn + [0] * tn
    p = [1] * tp + [1] * fp + [0] * fn + [0] * tn
    return y, p, [facet_value] * len(y)


def _arrays(*groups):
    """Concatenated rows of ``(facet value, confusion counts)`` groups."""
    y, p, f = [], [], []
    for value, counts in groups:
        rows = _rows(value, **counts)
        y += rows[0]
        p += rows[1]
        f += rows[2]
    return np.array(y), np.array(p), np.array(f, dtype=object)


def _values(report, i=0):
    return {k: m["value"] for k, m in report["facets"][i]["metrics"].items()}


# d = "F": TP 3, FP 1, FN 2, TN 4 (10 rows); a = "M": TP 6, FP 3, FN 1, TN 5 (15 rows).
WORKED = (("F", {"tp": 3, "fp": 1, "fn": 2, "tn": 4}), ("M", {"tp": 6, "fp": 3, "fn": 1, "tn": 5}))


@pytest.fixture
def worked():
    return _arrays(*WORKED)


def _times(k, *groups):
    """The groups with every confusion count multiplied by ``k`` (same rates, more support)."""
    return tuple((value, {c: k * n for c, n in counts.items()}) for value, counts in groups)


def test_each_metric_matches_the_hand_computation(worked):
    y, p, f = worked
    report = posttraining_bias(
        y, p, f, positive=[1], facet_values=["F"], facet_name="sex", label_name="hired"
    )
    got = _values(report)
    assert got == pytest.approx(
        {
            "DPPL": 9 / 15 - 4 / 10,  # predicted positive rates: a (6+3)/15, d (3+1)/10
            "DI": (4 / 10) / (9 / 15),
            "DCAcc": 7 / 9 - 5 / 4,  # observed / predicted positives: a (6+1)/(6+3), d (3+2)/(3+1)
            "DCR": 5 / 6 - 8 / 6,  # observed / predicted negatives: d (4+1)/(4+2), a (5+3)/(5+1)
            "RD": 6 / 7 - 3 / 5,  # recall: a 6/(6+1), d 3/(3+2)
            "DAR": 6 / 9 - 3 / 4,  # precision: a 6/(6+3), d 3/(3+1)
            "DRR": 4 / 6 - 5 / 6,  # TN/(TN+FN): d 4/(4+2), a 5/(5+1)
            "AD": 11 / 15 - 7 / 10,  # accuracy: a (6+5)/15, d (3+4)/10
            "TE": 2 / 1 - 1 / 3,  # FN/FP: d 2/1, a 1/3
        }
    )
    g = report["facets"][0]
    assert (g["n_d"], g["n_a"], g["description"], g["value"]) == (10, 15, "= 'F'", "F")
    assert g["confusion_d"] == {"tp": 3, "fp": 1, "fn": 2, "tn": 4}
    assert g["confusion_a"] == {"tp": 6, "fp": 3, "fn": 1, "tn": 5}
    assert g["positive_rate_d"] == pytest.approx(0.5)
    assert g["predicted_positive_rate_a"] == pytest.approx(0.6)
    # Ten rows are too few to judge any metric; DPPL is information (DI judges it).
    statuses = {k: m["status"] for k, m in g["metrics"].items()}
    assert statuses == dict.fromkeys(statuses, "too few") | {"DPPL": "info"}
    assert not any(m["flag"] for m in g["metrics"].values())
    assert (
        "40.0% of sex = 'F' and 60.0% of the rest: 20.0 points less often"
        in (g["metrics"]["DPPL"]["reading"])
    )
    assert "hired = 1" in g["metrics"]["DPPL"]["reading"]
    assert list(g["metrics"]) == list(POSTTRAINING_METRICS)
    json.dumps(report, allow_nan=False)


def test_clarify_documentation_examples():
    # DCR page: a has 50 observed and 60 predicted rejections of 100, d 40 and 30 of 50.
    # RD page: the confusion matrices of its example, facet a and facet d.
    y, p, f = _arrays(
        ("d", {"tp": 5, "fp": 15, "fn": 5, "tn": 25}),
        ("a", {"tp": 35, "fp": 5, "fn": 15, "tn": 45}),
    )
    assert _values(posttraining_bias(y, p, f, positive=[1], facet_values=["d"]))["DCR"] == (
        pytest.approx(40 / 30 - 50 / 60)
    )
    y, p, f = _arrays(
        ("d", {"tp": 20, "fp": 5, "fn": 7, "tn": 18}),
        ("a", {"tp": 65, "fp": 10, "fn": 5, "tn": 20}),
    )
    got = _values(posttraining_bias(y, p, f, positive=[1], facet_values=["d"]))
    assert got["RD"] == pytest.approx(65 / 70 - 20 / 27)
    assert got["AD"] == pytest.approx(85 / 100 - 38 / 50)


def _clarify_reference(d, y, p):
    # Clarify's definitions written out with boolean masks, one metric at a time.
    a = ~d

    def rate(num, den):
        return num.sum() / den.sum()

    return {
        "DPPL": rate(p & a, a) - rate(p & d, d),
        "DI": rate(p & d, d) / rate(p & a, a),
        "DCAcc": rate(y & a, p & a) - rate(y & d, p & d),
        "DCR": rate(~y & d, ~p & d) - rate(~y & a, ~p & a),
        "RD": rate(y & p & a, y & a) - rate(y & p & d, y & d),
        "DAR": rate(y & p & a, p & a) - rate(y & p & d, p & d),
        "DRR": rate(~y & ~p & d, ~p & d) - rate(~y & ~p & a, ~p & a),
        "AD": rate((y == p) & a, a) - rate((y == p) & d, d),
        "TE": rate(y & ~p & d, ~y & p & d) - rate(y & ~p & a, ~y & p & a),
    }


def test_several_facet_values_match_the_reference_on_random_data(rng):
    n = 5_000
    region = rng.choice(["north", "south", "east"], n, p=[0.5, 0.3, 0.2])
    y = rng.choice(["approved", "rejected", "pending"], n)
    # A model that approves the south less often.
    p = np.where(rng.random(n) < np.where(region == "south", 0.3, 0.5), "approved", "rejected")
    report = posttraining_bias(y, p, region, positive=["approved", "pending"], facet_name="region")
    assert [g["value"] for g in report["facets"]] == ["north", "south", "east"]
    y_pos, p_pos = np.isin(y, ["approved", "pending"]), p == "approved"
    for i, value in enumerate(["north", "south", "east"]):
        assert _values(report, i) == pytest.approx(
            _clarify_reference(region == value, y_pos, p_pos)
        )
    south = report["facets"][1]["metrics"]
    assert south["DI"]["flag"] and south["DPPL"]["status"] == "info"
    assert report["positive"] == ["approved", "pending"]
    chosen = posttraining_bias(
        y, p, region, positive=["approved", "pending"], facet_values=["east", "north"]
    )
    assert [g["value"] for g in chosen["facets"]] == ["east", "north"]


def test_continuous_facet_with_a_threshold_and_missing_values(rng):
    n = 2_000
    age = rng.integers(18, 90, n).astype(float)
    age[:10] = np.nan
    y = rng.integers(0, 2, n)
    p = rng.integers(0, 2, n)
    report = posttraining_bias(y, p, age, positive=[1], threshold=60, facet_name="age")
    assert report["rows"] == n - 10 and report["rows_dropped"] == 10
    (g,) = report["facets"]
    assert (g["value"], g["description"]) == (60, "> 60")
    keep = ~np.isnan(age)
    d = age[keep] > 60
    assert g["n_d"] == int(d.sum())
    assert _values(report) == pytest.approx(_clarify_reference(d, y[keep] == 1, p[keep] == 1))


def test_a_perfectly_fair_model_shows_no_gap():
    # The rest has exactly twice the group's counts in every cell.
    y, p, f = _arrays(
        ("x", {"tp": 2, "fp": 1, "fn": 1, "tn": 4}), ("y", {"tp": 4, "fp": 2, "fn": 2, "tn": 8})
    )
    report = posttraining_bias(y, p, f, positive=[1])
    for i in range(2):
        got = _values(report, i)
        assert got.pop("DI") == pytest.approx(1.0)
        assert got == pytest.approx(dict.fromkeys(got, 0.0))
        assert not any(m["flag"] for m in report["facets"][i]["metrics"].values())
    assert "the same for both" in report["facets"][0]["metrics"]["RD"]["reading"]


def test_disparate_impact_flags_outside_four_fifths_on_both_sides():
    # Predicted positive rates 0.5 (d) and 0.6 (a) on 1,000 rows each: a clear gap (p < 1e-5)
    # that is not material, since the ratio is within [0.8, 1.25].
    y, p, f = _arrays(
        *_times(
            100, ("d", {"tp": 3, "fp": 2, "fn": 1, "tn": 4}), ("a", {"tp": 4, "fp": 2, "tn": 4})
        )
    )
    report = posttraining_bias(y, p, f, positive=[1])
    # Equal sizes: ties are ordered by value.
    assert [g["value"] for g in report["facets"]] == ["a", "d"]
    a, d = (report["facets"][i]["metrics"] for i in (0, 1))
    assert d["DPPL"]["value"] == 0.1 and d["DPPL"]["status"] == "info"
    assert d["DI"]["value"] == pytest.approx(5 / 6) and d["DI"]["status"] == "ok"
    assert d["DI"]["evidence"]["p_value"] < 1e-5
    # Over the rest, group a gets positives 6/5 as often: within 1.25; 3/2 is past it.
    assert a["DI"]["value"] == pytest.approx(6 / 5) and not a["DI"]["flag"]
    y, p, f = _arrays(*_times(20, *WORKED))
    m = posttraining_bias(y, p, f, positive=[1], facet_values=["M"])["facets"][0]["metrics"]
    assert m["DI"]["value"] == pytest.approx(1.5) and m["DI"]["flag"]


def test_disparate_impact_is_undefined_when_the_rest_gets_no_positive():
    y, p, f = _arrays(*_times(50, ("d", {"tp": 2, "fn": 1, "tn": 1}), ("a", {"fn": 2, "tn": 3})))
    di = posttraining_bias(y, p, f, positive=[1], facet_values=["d"])["facets"][0]["metrics"]["DI"]
    assert di["value"] is None and di["flag"]
    assert "none of the rest, but does for 50.0% of facet = 'd'" in di["reading"]
    # Nobody gets a positive prediction: DI undefined, not flagged, DPPL 0.
    y, p, f = _arrays(("d", {"fn": 2, "tn": 1}), ("a", {"fn": 1, "tn": 3}))
    m = posttraining_bias(y, p, f, positive=[1], facet_values=["d"])["facets"][0]["metrics"]
    assert m["DI"]["value"] is None and not m["DI"]["flag"]
    assert m["DPPL"]["value"] == 0.0
    assert m["DCAcc"]["value"] is None and m["DAR"]["value"] is None


def test_treatment_equality_without_false_positives_is_undefined():
    # d has no false positive: FN_d / FP_d has no value, so TE has none.
    y, p, f = _arrays(
        ("d", {"tp": 2, "fn": 2, "tn": 3}), ("a", {"tp": 3, "fp": 2, "fn": 1, "tn": 2})
    )
    report = posttraining_bias(y, p, f, positive=[1], facet_values=["d", "a"], facet_name="sex")
    te = report["facets"][0]["metrics"]["TE"]
    assert te["value"] is None and not te["flag"]
    assert te["reading"].startswith("Undefined: the model makes no false positive for sex = 'd'.")
    assert te["status"] == "too few"
    assert "for the rest" in report["facets"][1]["metrics"]["TE"]["reading"]
    assert _values(report)["RD"] == pytest.approx(3 / 4 - 2 / 4)


def test_values_match_as_text_and_report_as_json():
    y = np.array(["yes", "no", "yes", "no", "no", None], dtype=object)
    p = np.array(["yes", "yes", "no", "no", "no", "no"], dtype=object)
    f = np.array([1, 1, 2, 2, 2, 1])
    report = posttraining_bias(y, p, f, positive="yes", facet_values=["2"])
    assert report["positive"] == ["yes"] and report["rows_dropped"] == 1
    assert report["facets"][0]["value"] == 2 and type(report["facets"][0]["value"]) is int
    json.dumps(report, allow_nan=False)
    series = posttraining_bias(
        pd.Series([1, 0, 1, 0]),
        pd.Series([1, 1, 0, 0]),
        pd.Series([True, True, False, None]),
        positive=["1"],
    )
    assert series["positive"] == [1] and [g["value"] for g in series["facets"]] == [True, False]


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"y_pred": [1, 0]}, r"same length\. Got y_true 6, y_pred 2, facet 6"),
        ({"facet": [["a"]] * 6}, r"facet must be one-dimensional"),
        ({"facet_values": ["femal"]}, r"'femal' does not occur.*Did you mean 'female'\?"),
        ({"positive": ["yes"]}, r"None of the positive values \['yes'\] occurs in 'label'"),
        ({"y_true": [0] * 6}, r"has no positive values"),
        ({"facet": ["male"] * 6}, r"single group \('male'\)"),
        ({"threshold": 1.0, "facet_values": ["male"]}, r"not both"),
        ({"threshold": 1.0}, r"threshold needs a numeric facet"),
        ({"facet": [1, 2, 3, 4, 5, 6], "threshold": 9}, r"No evaluated row has facet > 9"),
        ({"facet": [1, 2, 3, 4, 5, 6], "threshold": 0}, r"no rest to compare"),
        ({"facet": [None] * 6}, r"No rows to measure bias on"),
    ],
)
def test_bad_input(change, match):
    args = {
        "y_true": [1, 0, 1, 0, 1, 0],
        "y_pred": [1, 1, 0, 0, 1, 0],
        "facet": ["female", "female", "male", "male", "male", "female"],
        "positive": [1],
    } | change
    arrays = {k: np.array(args.pop(k), dtype=object) for k in ("y_true", "y_pred", "facet")}
    with pytest.raises(InvalidInput, match=match):
        posttraining_bias(arrays["y_true"], arrays["y_pred"], arrays["facet"], **args)


def test_report_renders_as_a_fragment_a_page_and_in_the_terminal():
    y, p, f = _arrays(*_times(20, *WORKED))
    f = np.where(f == "F", "<F>", f)
    report = posttraining_bias(y, p, f, positive=[1], facet_name="sex", label_name="hired")
    section = render_posttraining_section(report)
    assert "<script" not in section and "<html" not in section
    assert "Difference in conditional acceptance" in section and "badge error" in section
    assert "sex = &#x27;&lt;F&gt;&#x27;" in section and "<F>" not in section
    page = render_posttraining_html(report)
    assert page.startswith("<!DOCTYPE html>") and "<script src" not in page
    assert "Treatment equality" in page
    console = Console(record=True, width=200)
    print_posttraining_summary(report, console)
    text = console.export_text()
    assert "Post-training bias" in text and "sex = '<F>'" in text
    assert "DCAcc" in text and "Flagged:" in text
    # The flag is shown with the group's counts and interval.
    assert "DI" in text and "120 of 200 predicted negative" in text and "95% CI" in text


def test_recall_on_five_true_positives_is_too_few_to_judge():
    # Group d: 5 of 8 positives found (62%) against 900 of 1,000 (90%) in the rest. The old
    # 0.1 limit flagged RD here; 8 observed positives are too few to judge a recall.
    y, p, f = _arrays(
        ("d", {"tp": 5, "fp": 20, "fn": 3, "tn": 972}),
        ("a", {"tp": 900, "fp": 400, "fn": 100, "tn": 8600}),
    )
    rd = posttraining_bias(y, p, f, positive=[1], facet_values=["d"])["facets"][0]["metrics"]["RD"]
    assert rd["value"] == pytest.approx(0.9 - 5 / 8)
    assert rd["status"] == "too few" and not rd["flag"]
    assert "3 missed of 8 rows" in rd["reading"]


@pytest.mark.parametrize("nested", [{"a": 1}, [1, 2]], ids=["struct", "list"])
def test_a_facet_of_nested_values_is_refused_by_name(nested):
    y, p, _ = _arrays(("d", {"tp": 3, "fn": 2}), ("a", {"tp": 2, "tn": 4}))
    # As pandas reads a struct or list column from Arrow: a dict or an array per row.
    facet = pd.Series([nested if isinstance(nested, dict) else np.array(nested)] * len(y))
    with pytest.raises(InvalidInput, match="facet column 'plan' holds values that cannot form"):
        posttraining_bias(y, p, facet, positive=[1], facet_name="plan")
