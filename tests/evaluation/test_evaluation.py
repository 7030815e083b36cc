"""The evaluation report: curves, intervals, top-k, slices, shapes, and its HTML page."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from sklearn import metrics as skm

from shipyard.errors import InvalidInput, NotFound
from shipyard.evaluation import evaluate_test, evaluation_html, load_evaluation
from shipyard.evaluation._html import render_evaluation_html
from shipyard.model import Problem
from shipyard.project import Project
from shipyard.train import train

BINARY = Problem("binary", "label", (0, 1), 1)


def _binary(rng: np.random.Generator, n: int, rate: float = 0.1) -> tuple[np.ndarray, ...]:
    y = (rng.random(n) < rate).astype(np.float64)
    scores = 1 / (1 + np.exp(-(rng.normal(size=n) + 2.0 * y - 2.5)))
    return y, np.round(scores, 3)  # rounding makes ties, which the curves must handle


def test_binary_metrics_match_scikit_learn(rng) -> None:
    y, scores = _binary(rng, 5000)
    report = evaluate_test(BINARY, y, scores, threshold=0.3)
    metrics = report["metrics"]
    assert metrics["roc_auc"]["value"] == pytest.approx(skm.roc_auc_score(y, scores))
    assert metrics["pr_auc"]["value"] == pytest.approx(skm.average_precision_score(y, scores))
    assert metrics["log_loss"]["value"] == pytest.approx(skm.log_loss(y, scores))
    assert metrics["recall"]["value"] == pytest.approx(skm.recall_score(y, scores >= 0.3))


def test_curves_are_monotone_and_end_at_the_corners(rng) -> None:
    y, scores = _binary(rng, 20_000)
    report = evaluate_test(BINARY, y, scores)
    roc, pr = report["roc"], report["pr"]
    assert (roc["fpr"][0], roc["tpr"][0]) == (0.0, 0.0)
    assert (roc["fpr"][-1], roc["tpr"][-1]) == (1.0, 1.0)
    assert np.all(np.diff(roc["fpr"]) >= 0) and np.all(np.diff(roc["tpr"]) >= 0)
    assert np.all(np.diff(pr["recall"]) >= 0) and pr["recall"][-1] == 1.0
    assert pr["precision"][-1] == pytest.approx(y.mean())
    assert len(roc["fpr"]) <= 310 and len(pr["recall"]) <= 310
    # The downsampled curve keeps the area: trapezoids over it are close to the exact AUC.
    assert np.trapezoid(roc["tpr"], roc["fpr"]) == pytest.approx(
        report["metrics"]["roc_auc"]["value"], abs=2e-3
    )


@pytest.mark.parametrize("rows", [300, 50_000], ids=["all-rows", "sampled-and-scaled"])
def test_every_interval_contains_its_estimate(rng, rows) -> None:
    y, scores = _binary(rng, rows)
    report = evaluate_test(BINARY, y, scores, threshold=0.3, max_bootstrap_rows=10_000)
    for name, m in report["metrics"].items():
        lo, hi = m["ci95"]
        assert lo <= m["value"] <= hi, name
        assert hi - lo > 0, name
    assert report["bootstrap"]["scaled"] is (rows > 10_000)


def test_scaled_interval_matches_the_full_bootstrap(rng) -> None:
    y, scores = _binary(rng, 40_000)
    full = evaluate_test(BINARY, y, scores, max_bootstrap_rows=40_000)["metrics"]["roc_auc"]
    scaled = evaluate_test(BINARY, y, scores, max_bootstrap_rows=5_000)["metrics"]["roc_auc"]
    width = full["ci95"][1] - full["ci95"][0]
    assert scaled["ci95"][1] - scaled["ci95"][0] == pytest.approx(width, rel=0.3)


def test_the_bootstrap_is_seeded(rng) -> None:
    y, scores = _binary(rng, 2000)
    first = evaluate_test(BINARY, y, scores, seed=3)
    assert evaluate_test(BINARY, y, scores, seed=3) == first
    assert evaluate_test(BINARY, y, scores, seed=4)["metrics"] != first["metrics"]


def test_top_k_matches_a_brute_force_sort() -> None:
    rng = np.random.default_rng(7)
    n = 1000
    y = (rng.random(n) < 0.05).astype(np.float64)
    scores = rng.permutation(n) / n + 0.5 * y / n  # distinct scores
    scores = (scores - scores.min()) / (scores.max() - scores.min())
    report = evaluate_test(BINARY, y, scores, decision={"rule": "alert_rate", "target_rate": 0.03})
    ranked = sorted(zip(scores.tolist(), y.tolist(), strict=True), reverse=True)
    for row in report["top_k"]:
        top = ranked[: row["k"]]
        caught = sum(label for _, label in top)
        assert row["k"] == max(1, int(np.ceil(row["share"] * n - 1e-9)))
        assert row["positives"] == caught
        assert row["precision"] == pytest.approx(caught / row["k"])
        assert row["recall"] == pytest.approx(caught / y.sum())
        assert row["lift"] == pytest.approx(caught / row["k"] / y.mean())
    budget = [r for r in report["top_k"] if r["alert_budget"]]
    assert [r["share"] for r in budget] == [0.03]


def test_threshold_confusion_and_calibration(rng) -> None:
    y, scores = _binary(rng, 4000)
    report = evaluate_test(
        BINARY, y, scores, threshold=0.4, decision={"rule": "cost", "cost_fp": 1, "cost_fn": 20}
    )
    t = report["threshold"]
    c = t["confusion"]
    assert sum(c.values()) == 4000 and c["tp"] + c["fn"] == y.sum()
    assert t["alert_rate"] == pytest.approx(np.mean(scores >= 0.4))
    assert t["cost"] == c["fp"] + 20 * c["fn"]
    bins = report["calibration"]["bins"]
    assert sum(bins["rows"]) == 4000
    assert np.all(np.diff(bins["mean_score"]) > 0)
    assert report["calibration"]["brier"] == pytest.approx(np.mean((scores - y) ** 2))
    dist = report["score_distribution"]
    assert sum(dist["positive"]) == y.sum() and sum(dist["negative"]) == 4000 - y.sum()


def test_slices_sum_to_the_rows_and_flag_the_bad_one(rng) -> None:
    n = 6000
    y, scores = _binary(rng, n, rate=0.2)
    region = rng.choice(["north", "south", "east"], n)
    # In 'east' the scores are noise: its AUC is ~0.5 and must be flagged.
    east = region == "east"
    scores = np.where(east, rng.random(n), scores)
    amount = rng.gamma(2.0, 50.0, n)
    amount[:50] = np.nan
    frame = pd.DataFrame({"region": region, "amount": amount, "plan": rng.choice(list("ab"), n)})
    report = evaluate_test(BINARY, y, scores, threshold=0.3, slices=frame)
    columns = {c["column"]: c for c in report["slices"]["columns"]}
    for column in columns.values():
        assert sum(s["rows"] for s in column["slices"]) == n
        assert sum(s["positives"] for s in column["slices"]) == y.sum()
    region_slices = {s["value"]: s for s in columns["region"]["slices"]}
    assert region_slices["east"]["flags"] and not region_slices["north"]["flags"]
    assert region_slices["east"]["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y[east], scores[east])
    )
    amounts = columns["amount"]
    assert amounts["kind"] == "quantile bins" and amounts["slices"][-1]["value"] == "(missing)"
    assert amounts["slices"][-1]["rows"] == 50


def test_many_values_keep_the_top_ones_and_group_the_rest(rng) -> None:
    n = 3000
    y, scores = _binary(rng, n)
    frame = pd.DataFrame({"operator": rng.choice([f"op{i}" for i in range(40)], n)})
    column = evaluate_test(BINARY, y, scores, slices=frame)["slices"]["columns"][0]
    assert len(column["slices"]) == 11 and "(other)" in {s["value"] for s in column["slices"]}


def test_multiclass_shapes(rng) -> None:
    n, k = 3000, 3
    y = rng.integers(0, k, n).astype(np.float64)
    probs = rng.dirichlet(np.ones(k), n)
    probs[np.arange(n), y.astype(int)] += 0.6
    probs /= probs.sum(axis=1, keepdims=True)
    problem = Problem("multiclass", "label", ("low", "mid", "high"))
    report = evaluate_test(problem, y, probs, slices=pd.DataFrame({"g": rng.choice(list("xy"), n)}))
    matrix = np.array(report["confusion"]["matrix"])
    assert matrix.shape == (3, 3) and matrix.sum() == n
    assert [c["class"] for c in report["per_class"]] == ["low", "mid", "high"]
    accuracy = report["metrics"]["accuracy"]
    assert accuracy["value"] == pytest.approx(np.trace(matrix) / n)
    assert report["metrics"]["macro_f1"]["value"] == pytest.approx(
        skm.f1_score(y, probs.argmax(axis=1), average="macro")
    )
    assert accuracy["ci95"][0] <= accuracy["value"] <= accuracy["ci95"][1]
    assert "roc" not in report and "top_k" not in report


def test_regression_shapes(rng) -> None:
    n = 4000
    y = rng.normal(10, 3, n)
    predicted = y + rng.normal(0, 1, n)
    report = evaluate_test(Problem("regression", "amount"), y, predicted)
    assert report["metrics"]["r2"]["value"] == pytest.approx(skm.r2_score(y, predicted))
    assert report["metrics"]["rmse"]["value"] == pytest.approx(
        np.sqrt(np.mean((predicted - y) ** 2))
    )
    assert len(report["predicted_vs_actual"]["actual"]) == 1000
    assert sum(report["by_decile"]["rows"]) == n and len(report["by_decile"]["rows"]) == 10
    assert sum(report["residuals"]["histogram"]["counts"]) == n


def test_learning_curves_leaderboard_and_diagnostics_are_carried() -> None:
    y = np.array([0, 1] * 50, dtype=np.float64)
    scores = np.linspace(0.01, 0.99, 100)
    report = evaluate_test(
        BINARY,
        y,
        scores,
        curves={"train_loss": list(np.linspace(1, 0.1, 2000)), "valid_loss": [0.7, 0.6]},
        leaderboard=[{"rank": 1, "family": "lightgbm", "valid_score": 0.9, "params": {}}],
        leaderboard_metric="roc_auc",
        diagnostics=[{"check": "overfitting", "severity": "warning", "message": "Try this."}],
    )
    assert len(report["learning_curves"]["train_loss"]["step"]) == 500
    assert report["learning_curves"]["valid_loss"]["step"] == [1, 2]
    assert report["leaderboard"]["metric"] == "roc_auc"
    assert report["diagnostics"][0]["check"] == "overfitting"
    json.dumps(report, allow_nan=False)


def _figures(html: str) -> dict[str, dict]:
    start = html.index("const FIGS=") + len("const FIGS=")
    end = html.index(";for(const [id,f]", start)
    return json.loads(html[start:end].replace("<\\/", "</"))


@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
def test_html_is_self_contained_and_its_plots_are_valid(rng, kind) -> None:
    n = 2000
    slices = pd.DataFrame({"region": rng.choice(["n", "s"], n)})
    if kind == "binary":
        y, scores = _binary(rng, n)
        problem = BINARY
    elif kind == "multiclass":
        y = rng.integers(0, 3, n).astype(np.float64)
        scores = rng.dirichlet(np.ones(3), n)
        problem = Problem("multiclass", "label", ("a", "b", "c"))
    else:
        y = rng.normal(size=n)
        scores = y + rng.normal(size=n)
        problem = Problem("regression", "label")
    report = evaluate_test(problem, y, scores, slices=slices)
    html = render_evaluation_html(report, bias_section="<p>bias here</p>")
    assert not re.search(r"<script[^>]*\bsrc\s*=\s*[\"']?https?:", html)
    assert html.count("<script>") == 2  # plotly.js once, the figures once
    assert "bias here" in html and "Slices" in html
    figures = _figures(html)
    assert figures
    for figure in figures.values():
        go.Figure(figure)  # raises on a property Plotly does not know


def test_training_stores_the_report(project: Project, ingest, frame_of) -> None:
    frame = frame_of(1500, "binary")
    frame["branch"] = np.where(frame["region"] == "north", "n-branch", "other")
    ingest(frame, "d")
    result = train(project, "d", "label", exclude=["branch"], slice_by=["branch", "x1"])
    assert result.evaluation is not None
    stored = load_evaluation(project, result.model_version.ref)
    assert stored.payload == result.evaluation.payload
    columns = [c["column"] for c in stored.payload["slices"]["columns"]]
    assert columns == ["branch", "x1"]  # an excluded column can still be sliced by
    assert stored.payload["rows"] == result.split["rows"]["test"]
    assert stored.payload["metrics"]["roc_auc"]["value"] == pytest.approx(
        result.metrics["test"]["roc_auc"]
    )
    assert evaluation_html(project, stored).startswith(b"<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"slice_by": ["regoin"]}, NotFound, "Did you mean 'region'"),
        ({"facet": "roamin"}, NotFound, "Did you mean 'roaming'"),
        ({"facet_values": ["north"]}, InvalidInput, "give the facet column"),
        ({"facet": "region", "facet_values": ["nort"]}, InvalidInput, "Did you mean 'north'"),
        ({"facet": "region", "facet_threshold": 1.0}, InvalidInput, "numeric facet"),
    ],
)
def test_bad_report_options_fail_before_training(
    project: Project, ingest, frame_of, options, error, message
) -> None:
    ingest(frame_of(400, "binary"), "d")
    with pytest.raises(error, match=message):
        train(project, "d", "label", **options)
    assert project.catalog.list_runs() == []


def test_facet_needs_a_binary_problem(project: Project, ingest, frame_of) -> None:
    ingest(frame_of(400, "regression"), "d")
    with pytest.raises(InvalidInput, match="binary model"):
        train(project, "d", "label", facet="region")


def test_a_version_without_a_report_says_how_to_make_one(project: Project) -> None:
    # A version registered before training wrote evaluation reports.
    project.catalog.create_model_version(
        "old",
        run_id=None,
        bundle_uri="file:///nowhere",
        problem_type="binary",
        signature={},
        metrics={},
        lineage={"dataset": "d@1", "target": "label"},
        actor=project.actor,
    )
    with pytest.raises(NotFound, match=r"old:1 has no evaluation report.*shipyard train d@1"):
        load_evaluation(project, "old")


def test_training_with_a_facet_adds_post_training_bias(project: Project, ingest, frame_of):
    ingest(frame_of(1500, "binary"), "d")
    result = train(project, "d", "label", facet="region", facet_values=["north"])
    assert result.evaluation is not None
    bias = result.evaluation.payload["bias"]
    assert bias["facet"] == "region" and [g["value"] for g in bias["facets"]] == ["north"]
    assert set(bias["facets"][0]["metrics"]) >= {"DPPL", "DI", "RD"}
    assert b"Post-training bias" in evaluation_html(project, result.evaluation)


def test_a_facet_the_test_rows_cannot_measure_is_reported_not_fatal(
    project: Project, ingest, frame_of
) -> None:
    frame = frame_of(600, "binary")
    frame["t"] = np.arange(len(frame))
    frame["vip"] = np.where(frame["t"] < 100, "yes", "no")  # only early rows: none in test
    ingest(frame, "d")
    result = train(
        project, "d", "label", split="time", time_column="t", facet="vip", facet_values=["yes"]
    )
    assert result.evaluation is not None
    assert "error" in result.evaluation.payload["bias"]
    assert b"not computed" in evaluation_html(project, result.evaluation)


def test_top_k_table_is_not_squeezed_beside_its_chart(rng) -> None:
    y, scores = _binary(rng, 2000)
    html = render_evaluation_html(evaluate_test(BINARY, y, scores))
    section = html[html.index('id="top-k"') : html.index('id="calibration"')]
    assert "class='col'" not in section  # full width: all seven columns show
    assert section.index("<th>lowest score</th>") < section.index('class="plot"')
    (fig,) = (f for f in _figures(html).values() if "top-scored" in f["layout"]["title"]["text"])
    assert fig["layout"]["title"]["xanchor"] == "left"  # clear of the mode bar
