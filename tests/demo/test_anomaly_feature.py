"""The roaming demo's optional anomaly feature: a score column the label never shaped."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from shipyard.demo.anomaly_feature import add_anomaly_score
from shipyard.errors import InvalidInput
from shipyard.project import Project
from shipyard.registry import load_model
from shipyard.train import train


def subscriber_days(n: int = 900, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    calls = rng.gamma(10.0, 1.0, n)
    fraud = rng.random(n) < 0.03
    calls[fraud] += rng.normal(20, 8, fraud.sum())  # fraud days are often odd days
    return pd.DataFrame(
        {
            "subscriber_id": [f"s{i % 150}" for i in range(n)],
            "day": pd.Timestamp("2026-01-01") + pd.to_timedelta(np.arange(n) // 30, unit="D"),
            "calls": calls,
            "charge": calls * 0.5 + rng.normal(0, 1, n),
            "plan": rng.choice(["prepaid", "postpaid"], n),
            "is_fraud": fraud.astype(int),
        }
    )


def test_the_score_column_comes_from_a_model_that_never_saw_the_label(
    project: Project, ingest: Callable[[pd.DataFrame, str], str]
) -> None:
    ingest(subscriber_days(), "training")
    feature = add_anomaly_score(project, "training", "training_anomaly")
    model = load_model(project, feature.model).model
    assert model.signature["problem_type"] == "anomaly" and model.signature["target"] is None
    assert {c["name"] for c in model.signature["inputs"]} == {"calls", "charge", "plan"}
    table = project.lake.read_frame(project.catalog.get_dataset_version("training_anomaly", 1))
    assert "anomaly_score" in table and "score" not in table and "decision" not in table
    assert table["anomaly_score"].between(0, 1).all() and len(table) == 900
    odd = table.groupby("is_fraud")["anomaly_score"].mean()
    assert odd[1] > odd[0] + 0.1
    supervised = train(
        project, feature.dataset, "is_fraud", split="time", time_column="day",
        exclude=["subscriber_id"], family="linear",
    )  # fmt: skip
    names = [c["name"] for c in supervised.model_version.signature["inputs"]]
    assert "anomaly_score" in names


def test_a_taken_column_name_is_refused(
    project: Project, ingest: Callable[[pd.DataFrame, str], str]
) -> None:
    ingest(subscriber_days(), "training")
    with pytest.raises(InvalidInput, match="already has a column 'calls'"):
        add_anomaly_score(project, "training", "out", column="calls")
