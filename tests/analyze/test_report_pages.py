"""What a reader of the profile and bias pages sees: each chart's spec, checked on real reports."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import pytest

from shipyard.analyze import posttraining_bias, render_posttraining_html, render_profile_html, stats
from shipyard.analyze.profile import profile_parquet

LONG = "home_country_of_subscription_at_activation"


def _figures(html: str) -> list[dict]:
    start = html.index("const FIGS=") + len("const FIGS=")
    figs = json.loads(html[start : html.index(";for(const [id,f]", start)].replace("<\\/", "</"))
    for fig in figs.values():
        go.Figure(fig)  # every property is one Plotly knows
    return list(figs.values())


def _titled(figs: list[dict], text: str) -> list[dict]:
    return [f for f in figs if f["layout"].get("title", {}).get("text", "").startswith(text)]


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> str:
    """A profile of subscriber-days: heavy-tailed usage, a long-named facet, a 0/1 target."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(7)
    n = 4000
    data = {f"usage_minutes_{i}": rng.lognormal(1, 1.5, n) for i in range(5)}
    data |= {
        "normal": rng.normal(50, 5, n),
        LONG: rng.choice(["PT", "ES", "FR"], n),
        "plan": rng.choice(["a", "b"], n),
        "is_fraud": (rng.random(n) < 0.05).astype(np.int64),
    }
    data["usage_minutes_0"][:300] = 0.0  # zeros: left out of the log axis, and said so
    path = tmp_path_factory.mktemp("pages") / "d.parquet"
    pq.write_table(pa.table(data), path)
    profile = profile_parquet([str(path)], target="is_fraud")
    profile["alerts"].insert(
        3, {"kind": "high_missing", "column": "x", "message": "m", "severity": "warning"}
    )  # a warning among the notes
    return render_profile_html(profile)


def test_class_balance_of_a_binary_target_is_two_categories(page) -> None:
    (fig,) = _titled(_figures(page), "class balance")
    assert fig["layout"]["yaxis"]["type"] == "category"
    assert sorted(fig["data"][0]["y"]) == ["0", "1"]


def test_association_labels_are_column_names_with_room_for_them(page) -> None:
    (fig,) = _titled(_figures(page), "association with the target")
    bars = fig["data"][0]
    assert LONG in bars["y"]  # the name alone; its metric is the bar's text
    assert len(bars["text"]) == len(bars["y"])
    assert fig["layout"]["yaxis"]["automargin"] is True
    assert fig["layout"]["margin"]["l"] < 100  # automargin grows it to the longest name


def test_titles_sit_left_of_the_mode_bar(page) -> None:
    for fig in _figures(page):
        if "title" in fig["layout"]:
            assert fig["layout"]["title"]["xanchor"] == "left"


def test_notes_of_one_kind_fold_into_one_row_after_the_warnings(page) -> None:
    alerts = page[page.index('id="alerts"') : page.index('id="target"')]
    assert alerts.count("<tr>") == 1 + 3  # header; imbalanced target, the warning, the notes
    assert alerts.index("badge warning'>warning") < alerts.index("badge info'>info")
    assert "5 columns" in alerts and "<details class='group'>" in alerts
    assert alerts.count("is skewed") == 5  # each note still readable, inside the fold


def test_heavy_tailed_columns_get_a_log_axis_and_normal_ones_do_not(page) -> None:
    figs = _figures(page)
    logged = [f for f in figs if f["layout"].get("xaxis", {}).get("type") == "log"]
    assert len(logged) == 5
    assert _titled(logged, "distribution (log scale; 300 zeros not shown)")
    linear = _titled(figs, "distribution")
    assert len(linear) == 6 and sum(f["layout"]["xaxis"].get("type") != "log" for f in linear) == 1


def test_cramers_v_is_sequential_from_zero_and_signed_coefficients_diverge(page) -> None:
    (cramer,) = _titled(_figures(page), "Cramér's V")
    trace = cramer["data"][0]
    assert trace["zmin"] == 0 and trace["zmax"] == 1 and "reversescale" not in trace
    scale = trace["colorscale"]
    assert scale[0] == [0.0, "#f7fbff"] and scale[-1][0] == 1.0  # white is 0, dark is 1
    (pearson,) = _titled(_figures(page), "Pearson")
    assert pearson["data"][0]["zmin"] == -1 and pearson["data"][0]["colorscale"] == "RdBu"


def test_log_histogram_counts_every_positive_value_once() -> None:
    rng = np.random.default_rng(0)
    values = np.sort(np.concatenate([np.zeros(10), rng.pareto(1.1, 5000) + 0.01]))
    counts, edges = stats.log_histogram(values, 30, skewness=20.0)
    assert counts.sum() == 5000 and edges[0] == values[10] and edges[-1] == values[-1]
    ratios = edges[1:] / edges[:-1]
    assert np.allclose(ratios, ratios[0])  # equal steps on a log axis
    narrow = np.sort(rng.uniform(1, 50, 1000))
    assert stats.log_histogram(narrow, 30, skewness=3.0) is None  # under two decades
    assert stats.log_histogram(values, 30, skewness=0.5) is None  # not skewed
    assert stats.log_histogram(values - 1, 30, skewness=20.0) is None  # negative values
    assert stats.log_histogram(np.zeros(5), 30, skewness=20.0) is None


def test_posttraining_bars_are_named_by_facet_value() -> None:
    rng = np.random.default_rng(1)
    facet = rng.choice(["PT", "ES", "FR"], 3000).astype(object)
    y = rng.integers(0, 2, 3000)
    report = posttraining_bias(y, y, facet, positive=[1], facet_name=LONG, label_name="fraud")
    (fig,) = _figures(render_posttraining_html(report))
    ticks = fig["data"][0]["x"]
    assert sorted(ticks) == ["ES", "FR", "PT"]  # distinct, not all "home_country…"
    assert fig["layout"]["xaxis"] == {
        "automargin": True,
        "title": {"text": LONG},
        "type": "category",
    }
