from __future__ import annotations

import numpy as np
import pytest

from shipyard.errors import InvalidInput
from shipyard.registry import load_model
from shipyard.train import get_family, train
from shipyard.train.features import FeatureEncoder
from shipyard.train.problem import infer_problem


@pytest.mark.parametrize("problem_type", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("family_name", ["lightgbm", "xgboost", "catboost", "linear"])
def test_contributions_sum_to_the_raw_score(frame_of, family_name, problem_type) -> None:
    frame = frame_of(300, problem_type)
    problem = infer_problem(frame["label"])
    y = problem.encode(frame["label"])
    encoder = FeatureEncoder(exclude=["label"]).fit(frame)
    x = encoder.encode_frame(frame).matrix
    family = get_family(family_name)
    fit = family.fit(
        problem.type,
        len(problem.classes),
        x[:220],
        y[:220],
        x[220:260],
        y[220:260],
        encoder.categorical_indices_,
        threads=1,
    )
    contrib = family.contributions(fit.estimator, x[260:])
    k = 3 if problem_type == "multiclass" else 1
    assert contrib.shape == (40, k, x.shape[1] + 1)
    np.testing.assert_allclose(
        contrib.sum(axis=2), family.raw_score(fit.estimator, x[260:]), rtol=1e-4, atol=1e-4
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
