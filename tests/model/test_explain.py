from __future__ import annotations

import numpy as np
import pytest

from shipyard.errors import InvalidInput
from shipyard.model import (
    EnsembleEstimator,
    EnsembleFamily,
    FeatureEncoder,
    FitData,
    TabularModel,
    get_family,
    infer_problem,
)
from shipyard.registry import load_model
from shipyard.train import train


@pytest.mark.parametrize("problem_type", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("family_name", ["lightgbm", "xgboost", "catboost", "linear"])
def test_contributions_sum_to_the_raw_score(frame_of, family_name, problem_type) -> None:
    _problem, x, [(family, estimator, _)] = _fit_members(
        frame_of(300, problem_type), [(family_name, 1.0)]
    )
    contrib = family.contributions(estimator, x)
    k = 3 if problem_type == "multiclass" else 1
    assert contrib.shape == (40, k, x.shape[1] + 1)
    np.testing.assert_allclose(
        contrib.sum(axis=2), family.raw_score(estimator, x), rtol=1e-4, atol=1e-4
    )


def test_explain_records_names_the_features_that_drove_a_score(project, ingest, frame_of) -> None:
    frame = frame_of(400, "binary")
    result = train(project, ingest(frame), "label")
    model = load_model(project, result.model_version.ref).model
    records = frame.drop(columns=["label"]).head(3).to_dict("records")
    explained = model.explain_records(records, top=2)
    assert len(explained) == 3
    for item, score in zip(explained, model.predict_records(records).scores, strict=True):
        assert len(item["contributions"]) == 2
        assert item["space"] == "log-odds" and item["explained_by"] == "lightgbm"
        assert item["score"] == pytest.approx(score)
        sizes = [abs(c["contribution"]) for c in item["contributions"]]
        assert sizes == sorted(sizes, reverse=True)
    importance = model.feature_importance()
    assert next(iter(importance)) == "x1" and sum(importance.values()) == pytest.approx(1.0)


def test_a_forest_says_it_cannot_explain(project, ingest, frame_of) -> None:
    frame = frame_of(200, "binary")
    result = train(project, ingest(frame), "label", family="random_forest")
    model = load_model(project, result.model_version.ref).model
    with pytest.raises(InvalidInput, match="cannot explain single predictions"):
        model.explain_records(frame.drop(columns=["label"]).head(1).to_dict("records"))


def _fit_members(frame, names):
    problem = infer_problem(frame["label"])
    y = problem.encode(frame["label"])
    encoder = FeatureEncoder(exclude=["label"]).fit(frame)
    x = encoder.encode_frame(frame).matrix
    members = []
    for name, weight in names:
        family = get_family(name)
        fit = family.fit(
            FitData(
                problem.type,
                len(problem.classes),
                x[:220],
                y[:220],
                x[220:260],
                y[220:260],
                encoder.categorical_indices_,
            ),
            threads=1,
        )
        members.append((family, fit.estimator, weight))
    return problem, x[260:], members


@pytest.mark.parametrize("problem_type", ["binary", "multiclass", "regression"])
def test_ensemble_contributions_sum_exactly_to_its_score(frame_of, problem_type) -> None:
    frame = frame_of(300, problem_type)
    problem, x, members = _fit_members(
        frame, [("lightgbm", 0.5), ("linear", 0.3), ("xgboost", 0.2)]
    )
    family, estimator = EnsembleFamily(), EnsembleEstimator(members, problem.type)
    contrib = family.contributions(estimator, x)
    k = 3 if problem_type == "multiclass" else 1
    assert contrib.shape == (len(x), k, x.shape[1] + 1)
    scores = family.predict(estimator, x, threads=1).reshape(len(x), -1)
    np.testing.assert_allclose(contrib.sum(axis=2), scores, rtol=1e-6, atol=1e-6)
    # The features do the explaining: not everything sits in the base.
    assert np.abs(contrib[:, :, :-1]).sum() > 0.1 * len(x)


def test_an_ensemble_with_a_forest_is_explained_by_its_heaviest_explaining_member(
    frame_of,
) -> None:
    frame = frame_of(300, "binary")
    problem, x, members = _fit_members(frame, [("random_forest", 0.6), ("lightgbm", 0.4)])
    estimator = EnsembleEstimator(members, problem.type)
    assert EnsembleFamily().contributions(estimator, x) is None
    encoder = FeatureEncoder(exclude=["label"]).fit(frame)
    model = TabularModel(encoder, EnsembleFamily(), estimator, problem, 0.5, None, {})
    assert model.can_explain
    [item] = model.explain_records(frame.drop(columns=["label"]).head(1).to_dict("records"))
    assert item["explained_by"] == "lightgbm" and item["exact"] is False
