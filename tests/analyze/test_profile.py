from __future__ import annotations

import datetime as dt
import decimal
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from rich.console import Console

from shipyard.analyze import (
    check_constraints,
    print_profile_summary,
    profile_parquet,
    render_profile_html,
    suggest_constraints,
)
from shipyard.analyze.profile import PROFILE_VERSION
from shipyard.errors import InvalidInput, NotFound


def _kinds(profile, column=None):
    return {a["kind"] for a in profile["alerts"] if column is None or a["column"] == column}


@pytest.fixture
def clean(rng):
    n = 2_000
    return {
        "amount": rng.normal(100, 15, n),
        "calls": rng.poisson(4, n),
        "country": rng.choice(["FR", "DE", "ES", "IT"], n),
        "roaming": rng.random(n) < 0.5,
        "label": rng.random(n) < 0.3,
    }


def test_numeric_statistics_match_numpy(rng, write_parquet):
    x = rng.normal(5, 2, 5_000)
    x[:300] = 0.0
    mask = rng.random(5_000) < 0.1
    paths = write_parquet({"x": pa.array(x, mask=mask)}, files=3)
    col = profile_parquet(paths)["columns"][0]
    v = x[~mask]
    assert col["semantic_type"] == "numeric"
    assert (col["count"], col["missing"]) == (v.size, mask.sum())
    assert col["missing_pct"] == pytest.approx(100 * mask.mean())
    assert col["mean"] == pytest.approx(v.mean())
    assert col["std"] == pytest.approx(v.std(ddof=1))
    assert (col["min"], col["max"]) == (v.min(), v.max())
    assert col["distinct"] == np.unique(v).size
    assert col["zeros"] == np.sum(v == 0)
    assert col["quantiles"]["p50"] == pytest.approx(np.median(v))
    counts, _ = np.histogram(v, 30)
    assert col["histogram"]["counts"] == counts.tolist()


def test_categorical_top_values_and_lengths(rng, write_parquet):
    values = rng.choice(["a", "bb", "ccc"], 1_000, p=[0.6, 0.3, 0.1])
    col = profile_parquet(write_parquet({"c": values}, files=2))["columns"][0]
    want = pd.Series(values).value_counts()
    assert col["semantic_type"] == "categorical"
    assert [t["value"] for t in col["top_values"]] == want.index.tolist()
    assert [t["count"] for t in col["top_values"]] == want.tolist()
    assert col["lengths"]["mean"] == pytest.approx(np.mean([len(v) for v in values]))


def test_semantic_types(rng, write_parquet):
    n = 200
    profile = profile_parquet(
        write_parquet(
            {
                "id": np.arange(n),
                "user": [f"u{i:05d}" for i in range(n)],
                "note": [f"{'lorem ipsum dolor sit amet ' * 2} {i}" for i in range(n)],
                "binary": rng.integers(0, 2, n),
                "when": pa.array(
                    np.arange(n).astype("timedelta64[D]") + np.datetime64("2024-01-01", "s")
                ),
                "day": pa.array([dt.date(2024, 1, 1)] * n),
            }
        )
    )
    types = {c["name"]: c["semantic_type"] for c in profile["columns"]}
    assert types == {
        "id": "id-like",
        "user": "id-like",
        "note": "text",
        "binary": "boolean",
        "when": "datetime",
        "day": "datetime",
    }


def test_clean_table_raises_no_alert(clean, write_parquet):
    profile = profile_parquet(write_parquet(clean), target="label")
    assert profile["alerts"] == []
    assert profile["table"]["duplicate_rows"] == 0
    assert profile["target"]["kind"] == "binary"


def test_planted_problems_raise_their_alerts(clean, rng, write_parquet):
    n = len(clean["amount"])
    data = dict(clean)
    data["constant"] = np.full(n, 7)
    data["leak"] = clean["label"] * 10.0 + rng.normal(0, 0.1, n)
    data["sparse"] = pa.array(rng.normal(size=n), mask=rng.random(n) < 0.6)
    data["customer_id"] = np.arange(n)
    hours = np.arange(n).astype("timedelta64[h]")
    data["event"] = pa.array(hours + np.datetime64("2024-03-01", "s"))
    table = pa.table(data)
    table = pa.concat_tables([table, table.slice(0, 25)])  # 25 duplicated rows
    profile = profile_parquet(
        write_parquet(table, files=2), target="label", label_time="2024-03-15"
    )
    assert _kinds(profile, "constant") == {"constant"}
    assert _kinds(profile, "leak") == {"target_leakage"}
    assert _kinds(profile, "sparse") == {"high_missing"}
    assert _kinds(profile, "customer_id") == {"id_like"}
    assert _kinds(profile, "event") == {"after_label_time"}
    assert profile["table"]["duplicate_rows"] == 25
    assert "duplicate_rows" in _kinds(profile, None)
    assert not _kinds(profile, "amount") and not _kinds(profile, "country")
    after = next(c for c in profile["columns"] if c["name"] == "event")["after_label_time"]
    assert after == n - 14 * 24 - 1
    assert profile["alerts"][0]["severity"] == "error"


def test_imbalanced_target_alert(rng, write_parquet):
    n = 5_000
    y = np.zeros(n, bool)
    y[:40] = True
    profile = profile_parquet(write_parquet({"x": rng.normal(size=n), "y": y}), target="y")
    alert = next(a for a in profile["alerts"] if a["kind"] == "imbalanced_target")
    assert alert["severity"] == "error" and "0.80%" in alert["message"]


def test_correlations_find_the_planted_pair(rng, write_parquet):
    a = rng.normal(size=3_000)
    cats = rng.choice(list("xyz"), 3_000)
    profile = profile_parquet(
        write_parquet(
            {
                "a": a,
                "b": np.exp(a),
                "c": rng.normal(size=3_000),
                "k1": cats,
                "k2": np.char.add(cats, "!"),
            }
        )
    )
    corr = profile["correlations"]
    top = {(p["a"], p["b"], p["method"]): p["value"] for p in corr["top_pairs"]}
    assert top[("a", "b", "spearman")] == pytest.approx(1.0)
    assert top[("k1", "k2", "cramers_v")] == pytest.approx(1.0)
    assert abs(top[("a", "c", "pearson")]) < 0.1
    assert corr["pearson"]["columns"] == ["a", "b", "c"]


def test_profile_is_json_and_renders(clean, write_parquet):
    profile = profile_parquet(write_parquet(clean), target="label")
    text = json.dumps(profile, allow_nan=False)
    assert json.loads(text)["version"] == PROFILE_VERSION
    page = render_profile_html(profile)
    assert page.count("<script>") == 2  # plotly.js once, the figures once
    assert "<script src" not in page and "amount" in page
    console = Console(record=True, width=120)
    print_profile_summary(profile, console)
    out = console.export_text()
    assert "2,000 rows × 5 columns" in out and "country" in out


def test_progress_is_reported(clean, write_parquet):
    calls = []
    profile_parquet(write_parquet(clean), progress=lambda step, done, total: calls.append(done))
    assert calls[-1] == len(clean) + 2 and calls == sorted(calls)


def test_unknown_target_suggests_the_name(clean, write_parquet):
    with pytest.raises(NotFound, match=r"Unknown target column 'lable'\. Did you mean 'label'\?"):
        profile_parquet(write_parquet(clean), target="lable")


@pytest.mark.parametrize(
    ("paths", "error", "match"),
    [
        ([], InvalidInput, "no Parquet files"),
        (["/nonexistent/x.parquet"], NotFound, "not found"),
        (42, InvalidInput, "Got int"),
    ],
)
def test_bad_paths(paths, error, match):
    with pytest.raises(error, match=match):
        profile_parquet(paths)


def test_not_parquet_and_empty(tmp_path, write_parquet):
    bad = tmp_path / "x.parquet"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(InvalidInput, match="Parquet"):
        profile_parquet([str(bad)])
    empty = write_parquet({"a": pa.array([], pa.int64())}, name="empty")
    with pytest.raises(InvalidInput, match="no rows"):
        profile_parquet(empty)


def test_bad_label_time(clean, write_parquet):
    with pytest.raises(InvalidInput, match="label_time"):
        profile_parquet(write_parquet(clean), label_time="yesterday")


def test_awkward_columns_profile_without_warnings(write_parquet):
    n = 60
    stamps = [dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=i) for i in range(n)]
    paths = write_parquet(
        {
            "all_null": pa.array([None] * n, pa.float64()),
            "null_type": pa.nulls(n),
            "nan": pa.array([float("nan")] * n),
            "inf": pa.array([np.inf, 1.0] * (n // 2)),
            "dec": pa.array([decimal.Decimal("1.5"), decimal.Decimal("2.25")] * (n // 2)),
            "nested": pa.array([[1, 2]] * n),
            "raw": pa.array([b"ab", b"c"] * (n // 2)),
            "utc": pa.array(stamps),
            "cat": pa.array(pd.Categorical(["a", "b"] * (n // 2))),
            "big": pa.array(["x", "y"] * (n // 2), pa.large_string()),
        }
    )
    profile = profile_parquet(paths, label_time="2024-02-01")
    json.dumps(profile, allow_nan=False)
    cols = {c["name"]: c for c in profile["columns"]}
    assert cols["inf"]["distinct"] == 2 and cols["inf"]["non_finite"] == n // 2
    assert cols["nested"]["semantic_type"] == "other"
    assert cols["cat"]["levels"] == ["a", "b"] and cols["big"]["levels"] == ["x", "y"]
    assert cols["utc"]["after_label_time"] == n - 32  # 2024-02-01 itself is not later
    assert _kinds(profile, "all_null") == {"empty"} and _kinds(profile, "null_type") == {"empty"}
    # The data a profile came from passes the rules suggested from that profile.
    report = check_constraints(paths, suggest_constraints(profile))
    assert report["passed"] and report["violations"] == []


def test_text_target_gets_associations_and_leakage(rng, write_parquet):
    n = 3_000
    label = rng.choice(["churn", "stay"], n, p=[0.3, 0.7])
    profile = profile_parquet(
        write_parquet(
            {
                "plan": rng.choice(["a", "b", "c"], n),
                "usage": rng.normal(size=n),
                "closed_reason": np.where(label == "churn", "moved", "none"),
                "label": label,
            }
        ),
        target="label",
    )
    target = profile["target"]
    assert target["kind"] == "binary" and target["minority"] == "churn"
    strength = {a["column"]: a["strength"] for a in target["associations"]}
    assert set(strength) == {"plan", "usage", "closed_reason"}
    assert strength["closed_reason"] == pytest.approx(1.0) and strength["usage"] < 0.1
    assert _kinds(profile, "closed_reason") == {"target_leakage"}
    assert not _kinds(profile, "plan") and not _kinds(profile, "usage")


@pytest.mark.parametrize(
    "values",
    [
        pytest.param([-1e308, 1e308, 0.0, 1.0], id="plus-minus-1e308"),
        pytest.param([-1.7e308, 1.7e308, 5.0], id="std-past-the-largest-float"),
        pytest.param([np.inf, -np.inf, np.nan, 1.0, 2.0, 3.0], id="inf-and-nan"),
        pytest.param([np.inf, -np.inf, np.nan], id="nothing-finite"),
        pytest.param([4.0] * 5, id="constant"),
        pytest.param([7.5], id="single-row"),
        pytest.param([1.0, 1.0000000000000002], id="range-of-one-ulp"),
    ],
)
def test_extreme_numbers_profile_to_valid_json_and_html(values, write_parquet):
    paths = write_parquet({"x": pa.array(values, type=pa.float64()), "k": list(range(len(values)))})
    profile = profile_parquet(paths)
    col = profile["columns"][0]
    finite = np.array([v for v in values if np.isfinite(v)])
    json.dumps(profile, allow_nan=False)  # storable as strict JSON
    assert "<html" in render_profile_html(profile)[:500].lower()
    assert col["non_finite"] == len(values) - finite.size
    if finite.size:
        hist = col["histogram"]
        assert sum(hist["counts"]) == finite.size
        assert hist["edges"][0] == finite.min() and hist["edges"][-1] == finite.max()
        assert np.all(np.diff(hist["edges"]) > 0) or len(hist["edges"]) == 2
        assert finite.min() <= col["quantiles"]["p50"] <= finite.max()
        scale = np.abs(finite).max()
        assert col["mean"] == pytest.approx(np.mean(finite / 4) * 4, abs=1e-12 * scale)


def test_plus_minus_1e308_keeps_the_spread(write_parquet):
    paths = write_parquet({"x": [-1e308, 1e308]})
    col = profile_parquet(paths)["columns"][0]
    assert col["mean"] == 0.0 and col["std"] == pytest.approx(np.sqrt(2) * 1e308)
    assert col["quantiles"]["p50"] == 0.0
    assert col["histogram"]["counts"] == [1] + [0] * 28 + [1]
