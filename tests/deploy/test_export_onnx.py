"""The ONNX graph scores raw rows as Shipyard does: families, problems, calibration, ensembles,
missing values and unseen categories; and what it cannot do, it refuses to write."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest

from shipyard.deploy import onnx_feed
from shipyard.deploy._onnx import TOLERANCE, check_onnx, onnx_graph
from shipyard.errors import InvalidInput
from shipyard.model import (
    Calibrator,
    EnsembleEstimator,
    EnsembleFamily,
    FeatureEncoder,
    FitData,
    TabularModel,
    fit_calibrator,
    get_family,
    infer_problem,
)


def _data(rng: np.random.Generator, n: int, problem: str) -> pd.DataFrame:
    """Numbers (one with missing values, one integer), a string with missing values, a
    boolean; classes as strings for multiclass, integers for binary."""
    x = rng.normal(size=(n, 3))
    region = rng.choice(["north", "south", "east", "west"], n).astype(object)
    region[:3] = "rare"  # under the linear model's min_frequency: an infrequent category
    roaming = rng.random(n) < 0.3
    calls = rng.integers(0, 30, n)
    signal = x[:, 0] + 0.8 * (region == "north") - 0.6 * roaming + 0.05 * calls
    frame = pd.DataFrame(
        {
            "amount": np.where(rng.random(n) < 0.1, np.nan, x[:, 0]),
            "x2": x[:, 1],
            "x3": x[:, 2],
            "calls": calls,
            "region": np.where(rng.random(n) < 0.1, None, region),
            "roaming": roaming,
        }
    )
    noisy = signal + rng.normal(scale=0.5, size=n)
    if problem == "binary":
        frame["label"] = (noisy > 0.6).astype(int)
    elif problem == "multiclass":
        frame["label"] = np.array(["low", "mid", "high"])[np.digitize(noisy, [0.0, 1.0])]
    else:
        frame["label"] = 3.0 * noisy + 10.0
    return frame


def _model(
    frame: pd.DataFrame, members: list[tuple[str, float]], calibration: str = "none"
) -> TabularModel:
    """Fit on the first 70% of ``frame``, early-stop on the next 15%."""
    problem = infer_problem(frame["label"])
    y = problem.encode(frame["label"])
    encoder = FeatureEncoder(exclude=["label"]).fit(frame)
    x = encoder.encode_frame(frame).matrix
    a, b = int(0.7 * len(frame)), int(0.85 * len(frame))
    data = FitData(
        problem.type, len(problem.classes), x[:a], y[:a], x[a:b], y[a:b],
        encoder.categorical_indices_,
    )  # fmt: skip
    fitted = []
    for name, weight in members:
        family = get_family(name)
        fitted.append((family, family.fit(data, threads=1).estimator, weight))
    if len(fitted) == 1:
        family, estimator, _ = fitted[0]
    else:
        family, estimator = EnsembleFamily(), EnsembleEstimator(fitted, problem.type)
    model = TabularModel(encoder, family, estimator, problem)
    if problem.type == "binary":
        raw = model.predict_scores(x[a:b])
        calibrator, _ = fit_calibrator(y[a:b], raw, method=calibration)
        model.calibrator = calibrator
        # Shipyard's threshold is one validation row's score: ties with it are real.
        model.threshold = float(np.median(model.predict_scores(x[a:b])))
    return model


def _test_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The held-out 15%, with unseen categories and more missing values."""
    rows = frame.iloc[int(0.85 * len(frame)) :].drop(columns=["label"]).reset_index(drop=True)
    rows["region"] = rows["region"].astype(object)
    rows.loc[rows.index % 5 == 0, "region"] = "atlantis"  # never seen in training
    rows.loc[rows.index % 7 == 0, "region"] = None
    rows.loc[rows.index % 13 == 0, "region"] = "rare"  # infrequent in training
    rows.loc[rows.index % 6 == 0, "x2"] = np.nan
    rows["roaming"] = rows["roaming"].astype(object)
    rows.loc[rows.index % 11 == 0, "roaming"] = None
    return rows


def _run(model: TabularModel, rows: pd.DataFrame) -> dict[str, np.ndarray]:
    proto = onnx_graph(model, name="test")
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, onnx_feed(session, rows)), strict=True))


def _assert_same(model: TabularModel, rows: pd.DataFrame) -> None:
    got = _run(model, rows)
    ours = model.predict_frame(rows)
    assert ours.unseen.get("region", 0) > 0  # the rows do carry unseen categories
    if model.problem.type == "regression":
        np.testing.assert_allclose(got["value"], ours.scores, rtol=TOLERANCE, atol=TOLERANCE)
        return
    assert got["probability"].shape == ours.scores.shape
    np.testing.assert_allclose(got["probability"], ours.scores, rtol=0, atol=TOLERANCE)
    assert list(got["label"]) == list(ours.labels())


@pytest.mark.parametrize("problem", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("family", ["lightgbm", "xgboost", "linear"])
def test_the_graph_scores_raw_rows_as_shipyard_does(rng, family, problem) -> None:
    frame = _data(rng, 1200, problem)
    model = _model(frame, [(family, 1.0)])
    if family == "linear":
        onehot = model.estimator.named_steps["prepare"].named_transformers_["cat"][-1]
        assert onehot.infrequent_categories_[0] is not None
    _assert_same(model, _test_rows(frame))


@pytest.mark.parametrize("calibration", ["sigmoid", "isotonic"])
@pytest.mark.parametrize("family", ["lightgbm", "linear"])
def test_calibration_is_in_the_graph(rng, family, calibration) -> None:
    frame = _data(rng, 1200, "binary")
    model = _model(frame, [(family, 1.0)], calibration)
    assert model.calibrator is not None and model.calibrator.method == calibration
    rows = _test_rows(frame)
    _assert_same(model, rows)
    # The calibrated probability, not the raw one, is what comes out.
    raw = model.family.predict(model.estimator, model.encoder.encode_frame(rows).matrix)
    assert np.abs(_run(model, rows)["probability"] - raw).max() > 1e-3


def test_an_isotonic_map_with_one_knot_is_its_value_everywhere(rng) -> None:
    frame = _data(rng, 600, "binary")
    model = _model(frame, [("linear", 1.0)])
    model.calibrator = Calibrator("isotonic", x=(0.4,), y=(0.3,))
    _assert_same(model, _test_rows(frame))


@pytest.mark.parametrize("problem", ["binary", "multiclass"])
def test_an_ensemble_is_the_weighted_mean_of_its_members(rng, problem) -> None:
    frame = _data(rng, 1200, problem)
    model = _model(frame, [("lightgbm", 0.5), ("linear", 0.3), ("xgboost", 0.2)])
    _assert_same(model, _test_rows(frame))


def test_labels_keep_their_type_and_ties_with_the_threshold_decide_as_shipyard(rng) -> None:
    frame = _data(rng, 1200, "binary")
    frame["label"] = np.where(frame["label"] == 1, "fraud", "ok")
    model = _model(frame, [("lightgbm", 1.0)])
    rows = _test_rows(frame)
    scores = model.predict_frame(rows).scores
    # A row the float32 trees score a hair below Shipyard, made to tie with the threshold.
    [below] = np.flatnonzero(_run(model, rows)["probability"] < scores)[:1]
    model.threshold = float(scores[below])
    got = _run(model, rows)
    assert got["label"][below] == model.problem.positive
    assert list(got["label"]) == list(model.predict_frame(rows).labels())


def test_a_string_column_fed_as_empty_strings_is_missing(rng) -> None:
    frame = _data(rng, 600, "binary")
    model = _model(frame, [("linear", 1.0)])
    rows = _test_rows(frame).head(20)
    rows["region"] = None
    got = _run(model, rows)
    np.testing.assert_allclose(got["probability"], model.predict_frame(rows).scores, atol=1e-12)


@pytest.mark.parametrize(
    ("members", "said"),
    [
        ([("catboost", 1.0)], "CatBoost's own ONNX export does not support categorical"),
        ([("random_forest", 1.0)], "skl2onnx's forest converter"),
        ([("linear", 0.6), ("extra_trees", 0.4)], "has a extra_trees member (weight 0.40)"),
    ],
)
def test_a_family_without_an_exact_converter_is_refused(rng, members, said) -> None:
    frame = _data(rng, 300, "binary")
    model = _model(frame, members)
    with pytest.raises(InvalidInput, match="--format mlflow") as caught:
        onnx_graph(model, name="test")
    assert said in caught.value.message


def test_inputs_without_an_onnx_form_are_refused(rng) -> None:
    frame = _data(rng, 300, "binary")
    frame["seen"] = pd.Timestamp("2026-01-01") + pd.to_timedelta(np.arange(300), unit="h")
    encoder = FeatureEncoder(exclude=["label"]).fit(frame)  # refused before anything is fit
    unfitted = TabularModel(encoder, get_family("linear"), None, infer_problem(frame["label"]))
    with pytest.raises(InvalidInput, match="'seen' is a timestamp"):
        onnx_graph(unfitted, name="test")
    frame = _data(rng, 300, "binary")
    model = _model(frame, [("linear", 1.0)])
    model.encoder.hashed = {"region": "00" * 32}
    with pytest.raises(InvalidInput, match="hashed with a secret key"):
        onnx_graph(model, name="test")
    frame = _data(rng, 300, "binary")
    frame["region"] = frame["region"].replace("rare", "")
    with pytest.raises(InvalidInput, match="empty string as a category"):
        onnx_graph(_model(frame, [("linear", 1.0)]), name="test")


def test_the_check_refuses_a_graph_that_does_not_match(rng) -> None:
    frame = _data(rng, 600, "binary")
    model = _model(frame, [("linear", 1.0)])
    proto = onnx_graph(model, name="test")
    model.threshold = model.threshold + 0.2  # the graph now decides differently
    with pytest.raises(InvalidInput, match="does not reproduce Shipyard's predictions"):
        check_onnx(proto, model, _test_rows(frame))


@pytest.mark.parametrize("family", ["lightgbm", "linear"])
def test_a_model_of_log_one_plus_y_maps_back_to_y_in_the_graph(rng, family) -> None:
    from shipyard.model import smearing_calibrator

    frame = _data(rng, 1200, "regression")
    frame["label"] = np.expm1(0.3 * frame["label"])  # skewed, never negative
    logged = frame.assign(label=np.log1p(frame["label"]))
    model = _model(logged, [(family, 1.0)])
    valid = model.encoder.encode_frame(frame.iloc[840:1020]).matrix
    raw = model.family.predict(model.estimator, valid)
    model.calibrator = smearing_calibrator(frame["label"].to_numpy()[840:1020], raw)
    rows = _test_rows(frame)
    _assert_same(model, rows)
    value = _run(model, rows)["value"]
    raw = model.family.predict(model.estimator, model.encoder.encode_frame(rows).matrix)
    assert value.mean() > 5 * raw.mean()  # y's units, not log(1 + y)'s


def test_an_ensemble_of_boosters_on_y_and_on_log_one_plus_y_exports(rng) -> None:
    frame = _data(rng, 1200, "regression")
    frame["label"] = np.exp(0.3 * frame["label"])  # skewed, positive
    model = _model(frame, [("lightgbm", 0.3), ("lightgbm_log", 0.4), ("xgboost_log", 0.3)])
    _assert_same(model, _test_rows(frame))
    twin = _model(frame, [("linear", 0.5), ("catboost_log", 0.5)])
    with pytest.raises(InvalidInput, match="has a catboost_log member") as caught:
        onnx_graph(twin, name="test")
    assert "CatBoost's own ONNX export" in caught.value.message
