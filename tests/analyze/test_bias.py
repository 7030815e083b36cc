from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from rich.console import Console
from scipy.spatial.distance import jensenshannon
from scipy.stats import entropy, ks_2samp

from shipyard.analyze import FlagRule, pretraining_bias, print_bias_summary, render_bias_html
from shipyard.errors import InvalidInput, NotFound

# Ten people. Facet d = "F": 4 rows, 1 positive; the rest a = "M": 6 rows, 3 positive.
# Region "n": F 2 rows (0 positive), M 2 rows (2 positive); region "s": F 2 (1), M 4 (1).
WORKED = {
    "sex": ["F", "F", "M", "M", "F", "F", "M", "M", "M", "M"],
    "region": ["n", "n", "n", "n", "s", "s", "s", "s", "s", "s"],
    "hired": [0, 0, 1, 1, 1, 0, 1, 0, 0, 0],
}


@pytest.fixture
def worked(write_parquet):
    return write_parquet(WORKED, name="worked")


def _values(report, i=0):
    return {k: m["value"] for k, m in report["facets"][i]["metrics"].items()}


def test_worked_example_matches_hand_computation(worked):
    report = pretraining_bias(
        worked, label="hired", positive=1, facet="sex", facet_values=["F"], group="region"
    )
    got = _values(report)
    kl_pa_m = 0.5 * math.log(0.5 / 0.625) + 0.5 * math.log(0.5 / 0.375)
    kl_pd_m = 0.75 * math.log(0.75 / 0.625) + 0.25 * math.log(0.25 / 0.375)
    assert got == pytest.approx(
        {
            "CI": (6 - 4) / 10,
            "DPL": 3 / 6 - 1 / 4,
            "KL": 0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25),
            "JS": (kl_pa_m + kl_pd_m) / 2,
            "LP": math.sqrt(2 * 0.25**2),
            "TVD": 0.25,
            "KS": 0.25,
            # DD_n = 2/2 - 0/2 = 1 on 4 rows; DD_s = 1/4 - 1/2 = -0.25 on 6 rows.
            "CDDL": (4 * 1 + 6 * -0.25) / 10,
        }
    )
    g = report["facets"][0]
    assert (g["n_d"], g["n_a"], g["description"]) == (4, 6, "= 'F'")
    # Four rows are too few to judge; CI is information, never a flag.
    assert g["metrics"]["DPL"]["status"] == "too few" and g["metrics"]["CI"]["status"] == "info"
    assert g["metrics"]["DPL"]["range"] == "[-1, 1]"
    assert "50.0% in the rest and 25.0% in the facet group" in g["metrics"]["DPL"]["reading"]


def test_every_facet_value_by_default_and_no_cddl_without_group(worked):
    report = pretraining_bias(worked, label="hired", positive=1, facet="sex")
    assert [g["value"] for g in report["facets"]] == ["M", "F"]
    assert _values(report, 0)["DPL"] == pytest.approx(-_values(report, 1)["DPL"])
    assert "CDDL" not in report["facets"][0]["metrics"]
    json.dumps(report, allow_nan=False)


def _clarify_cddl(df, facet_mask, positive, group):
    # Clarify's loop, written out independently.
    total, n = 0.0, len(df)
    for _, idx in df.groupby(group).groups.items():
        sub_pos, sub_d = positive[idx], facet_mask[idx]
        a = (sub_pos & sub_d).sum() / sub_pos.sum() if sub_pos.sum() else 0.0
        d = (~sub_pos & sub_d).sum() / (~sub_pos).sum() if (~sub_pos).sum() else 0.0
        total += len(idx) * (d - a)
    return total / n


def test_random_data_matches_independent_computation(rng, write_parquet):
    n = 20_000
    df = pd.DataFrame(
        {
            "age": rng.integers(18, 90, n),
            "region": rng.choice(["n", "s", "e", "w"], n),
            "outcome": rng.choice(["approved", "rejected", "pending"], n),
        }
    )
    report = pretraining_bias(
        write_parquet(df.to_dict("list"), files=3),
        label="outcome",
        positive=["approved", "pending"],
        facet="age",
        threshold=60,
        group="region",
    )
    got = _values(report)
    d = (df["age"] > 60).to_numpy()
    y = df["outcome"].isin(["approved", "pending"]).to_numpy()
    p_a = np.array([1 - y[~d].mean(), y[~d].mean()])
    p_d = np.array([1 - y[d].mean(), y[d].mean()])
    assert got["CI"] == pytest.approx(((~d).sum() - d.sum()) / n)
    assert got["DPL"] == pytest.approx(y[~d].mean() - y[d].mean())
    assert got["KL"] == pytest.approx(entropy(p_a, p_d))
    assert got["JS"] == pytest.approx(jensenshannon(p_a, p_d) ** 2)
    assert got["LP"] == pytest.approx(np.linalg.norm(p_a - p_d))
    assert got["TVD"] == pytest.approx(0.5 * np.abs(p_a - p_d).sum())
    assert got["KS"] == pytest.approx(ks_2samp(y[~d].astype(float), y[d].astype(float)).statistic)
    assert got["CDDL"] == pytest.approx(_clarify_cddl(df, d, y, "region"))
    assert report["facets"][0]["description"] == "> 60"


def test_nulls_are_left_out_and_text_values_match(write_parquet):
    paths = write_parquet(
        {
            "g": pa.array([1, 1, 2, 2, None, 2]),
            "y": pa.array([1, 0, 1, 1, 1, None]),
        }
    )
    report = pretraining_bias(paths, label="y", positive="1", facet="g", facet_values=["2"])
    assert report["rows"] == 4 and report["rows_dropped"] == 2
    assert report["facets"][0]["value"] == 2 and report["positive"] == [1]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"facet": "sx"}, NotFound, r"Unknown facet column 'sx'\. Did you mean 'sex'\?"),
        ({"label": "hird"}, NotFound, r"Did you mean 'hired'\?"),
        ({"group": "regio"}, NotFound, r"Did you mean 'region'\?"),
        ({"facet_values": ["X"]}, NotFound, r"Facet value 'X' does not occur in column 'sex'"),
        ({"positive": 7}, NotFound, r"Positive label value 7 does not occur"),
        ({"positive": [0, 1]}, InvalidInput, r"single class"),
        ({"threshold": 3.0}, InvalidInput, r"threshold needs a numeric facet"),
        ({"threshold": 3.0, "facet_values": ["F"]}, InvalidInput, r"not both"),
    ],
)
def test_bad_input(worked, kwargs, error, match):
    args = {"label": "hired", "positive": 1, "facet": "sex"} | kwargs
    with pytest.raises(error, match=match):
        pretraining_bias(worked, **args)


@pytest.mark.parametrize("role", ["facet", "label", "group"])
@pytest.mark.parametrize(
    ("values", "type_name"),
    [([{"a": i % 2} for i in range(10)], "struct"), ([[i % 2, 1] for i in range(10)], "list")],
)
def test_nested_columns_are_refused_by_name_and_type(write_parquet, role, values, type_name):
    paths = write_parquet(WORKED | {"nested": values}, name="nested")
    kwargs = {"label": "hired", "facet": "sex", "group": None} | {role: "nested"}
    with pytest.raises(InvalidInput, match=rf"{role} column 'nested' has type {type_name}") as e:
        pretraining_bias(paths, positive=1, **kwargs)
    assert e.value.details["column"] == "nested"


def test_threshold_of_the_wrong_type(write_parquet):
    stamps = pa.array([dt.datetime(2024, 1, d) for d in (1, 2, 3, 4)])
    paths = write_parquet({"when": stamps, "y": [0, 1, 0, 1]}, name="when")
    with pytest.raises(InvalidInput, match="threshold of the facet's type"):
        pretraining_bias(paths, label="y", positive=1, facet="when", threshold="soon")


def test_label_with_one_class_and_empty_dataset(write_parquet):
    one = write_parquet({"s": ["a", "b"], "y": [1, 1]}, name="one")
    with pytest.raises(InvalidInput, match="single class"):
        pretraining_bias(one, label="y", positive=1, facet="s")
    empty = write_parquet(
        {"s": pa.array([], pa.string()), "y": pa.array([], pa.int64())}, name="empty"
    )
    with pytest.raises(InvalidInput, match="No rows"):
        pretraining_bias(empty, label="y", positive=1, facet="s")
    whole = write_parquet({"s": ["a", "a"], "y": [0, 1]}, name="whole")
    with pytest.raises(InvalidInput, match="no rest"):
        pretraining_bias(whole, label="y", positive=1, facet="s")


def test_report_renders_and_prints(worked):
    report = pretraining_bias(worked, label="hired", positive=1, facet="sex", group="region")
    page = render_bias_html(report)
    assert "Difference in proportions of labels" in page and "<script src" not in page
    console = Console(record=True, width=160)
    print_bias_summary(report, console)
    text = console.export_text()
    assert "Nothing flagged in 2 group(s)" in text
    assert "Too few rows or events to judge: sex = 'M' (DPL); sex = 'F' (DPL)" in text


def test_a_group_with_one_outcome_follows_clarify(write_parquet):
    # d = "x": 2 rows, both positive; a: 4 rows, 1 positive. Only the positive outcome is
    # shared, so the divergences use that single, unrenormalized term (Clarify's rule).
    paths = write_parquet({"f": ["x", "x", "y", "y", "y", "y"], "y": [1, 1, 1, 0, 0, 0]})
    got = _values(pretraining_bias(paths, label="y", positive=1, facet="f", facet_values=["x"]))
    pa, pd_ = 0.25, 1.0
    m = (pa + pd_) / 2
    assert got["KL"] == pytest.approx(pa * math.log(pa / pd_))
    assert got["JS"] == pytest.approx(0.5 * (pa * math.log(pa / m) + pd_ * math.log(pd_ / m)))
    assert got["LP"] == pytest.approx(0.75) and got["TVD"] == pytest.approx(0.375)
    assert got["KS"] == pytest.approx(0.75) and got["DPL"] == pytest.approx(-0.75)


def test_a_flag_rule_out_of_range_is_refused():
    with pytest.raises(InvalidInput, match=r"'ratio' of a bias flag rule must be a number in"):
        FlagRule(ratio=1.25)
    with pytest.raises(InvalidInput, match=r"'min_events'.*Got 0 instead"):
        FlagRule(min_events=0)


# Shaped like the demo: 15 home countries with skewed shares, a 1% fraud rate everywhere but
# in "PT" (4% of rows at 3%). The counts are exact expectations, so the test is deterministic.
_SHARES = {
    "FR": 0.34, "ES": 0.12, "DE": 0.09, "IT": 0.08, "GB": 0.07, "BE": 0.05, "PT": 0.04,
    "NL": 0.04, "CH": 0.03, "PL": 0.03, "RO": 0.03, "MA": 0.03, "TN": 0.02, "SN": 0.02,
    "US": 0.01,
}  # fmt: skip


def _demo_shaped(write_parquet, rows=50_000, rates=None):
    rates = {"PT": 0.03} | (rates or {})
    country, label = [], []
    for c, share in _SHARES.items():
        n = round(rows * share)
        k = round(n * rates.get(c, 0.01))
        country += [c] * n
        label += [1] * k + [0] * (n - k)
    return write_parquet({"home_country": country, "is_fraud": label}, name="demo")


def test_only_the_group_at_three_times_the_base_rate_is_flagged(write_parquet):
    report = pretraining_bias(
        _demo_shaped(write_parquet), label="is_fraud", positive=1, facet="home_country"
    )
    flagged = {
        (g["value"], key) for g in report["facets"] for key, m in g["metrics"].items() if m["flag"]
    }
    # Before: CI flagged the 14 non-French countries and DPL (|-0.02| < 0.1) missed PT.
    assert flagged == {("PT", "DPL")}
    pt = next(g for g in report["facets"] if g["value"] == "PT")
    ev = pt["metrics"]["DPL"]["evidence"]
    assert (ev["group"]["count"], ev["group"]["of"]) == (60, 2_000)
    assert ev["ratio"] == pytest.approx(3.0, rel=0.05)
    assert ev["group"]["ci95"][0] > ev["rest"]["ci95"][1]
    assert all(g["metrics"]["CI"]["status"] == "info" for g in report["facets"])
    assert report["rule"]["tests"] == 15


def test_a_group_with_too_few_positives_is_not_flagged(write_parquet):
    # US: 500 rows with 8 positives (1.6%, 1.6 times the rest): too few to judge, not flagged.
    paths = _demo_shaped(write_parquet, rates={"US": 0.016})
    report = pretraining_bias(paths, label="is_fraud", positive=1, facet="home_country")
    us = next(g for g in report["facets"] if g["value"] == "US")
    dpl = us["metrics"]["DPL"]
    assert (us["n_d"], us["positives_d"]) == (500, 8)
    assert dpl["status"] == "too few" and not dpl["flag"]
    assert "too few to judge: 8 positive of 500 rows" in dpl["reading"].lower()
    # The same rate on ten times the rows is judged, and flagged.
    paths = _demo_shaped(write_parquet, rows=500_000, rates={"US": 0.016})
    report = pretraining_bias(paths, label="is_fraud", positive=1, facet="home_country")
    us = next(g for g in report["facets"] if g["value"] == "US")
    assert us["metrics"]["DPL"]["flag"]


def test_the_summary_names_the_metric_that_raised_the_flag(write_parquet):
    report = pretraining_bias(
        _demo_shaped(write_parquet), label="is_fraud", positive=1, facet="home_country"
    )
    console = Console(record=True, width=80)
    print_bias_summary(report, console)
    text = console.export_text()
    head = text[: text.index("Positive rate per group")]
    assert "Flagged: 1 metric(s) in 1 of 15 group(s)" in head
    assert "home_country = 'PT': DPL -0.0200" in head
    assert "60 of 2,000 positive (3.00%, 95% CI" in head
    assert "CI" not in head.replace("95% CI", "")
    assert len(text.splitlines()) < 45
    assert all(len(line) <= 80 for line in text.splitlines())
    page = render_bias_html(report)
    assert "home_country = &#x27;PT&#x27;</b>: <b>DPL</b>" in page
