"""shipyard compare: a quick classifier tells two samples apart, or cannot."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shipyard.analyze import compare_datasets, compare_frames
from shipyard.errors import InvalidInput


def _sample(rng: np.random.Generator, n: int, shift: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "income": rng.normal(50 + 10 * shift, 10, n),
            "age": rng.integers(18, 80, n),
            "plan": rng.choice(["a", "b", "c"], n),
            "day": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 30, n), "D"),
        }
    )


def test_two_samples_of_one_population_look_alike(rng) -> None:
    report = compare_frames(_sample(rng, 3000), _sample(rng, 3000))
    assert report["status"] == "ok" and report["auc"] < 0.56
    assert "day" in report["left_out"] and "day" not in report["columns_used"]


def test_a_shifted_sample_is_flagged_with_the_column_that_moved(rng) -> None:
    later = _sample(rng, 3000, shift=1.0)
    later["day"] += pd.Timedelta(days=60)  # a later extract: its dates alone would give it away
    report = compare_frames(_sample(rng, 3000), later)
    assert report["status"] == "warning" and report["auc"] >= 0.6
    top = report["columns"][0]
    assert top["column"] == "income" and top["importance"] > 0.5 and top["auc"] > 0.65


def test_too_few_rows_are_refused(rng) -> None:
    with pytest.raises(InvalidInput, match="at least 50"):
        compare_frames(_sample(rng, 20), _sample(rng, 500))


def test_compare_datasets_stores_the_report_with_the_other_dataset(project, ingest, rng) -> None:
    train_ref = ingest(_sample(rng, 800), "train")
    other_ref = ingest(_sample(rng, 800, shift=1.5), "other")
    report = compare_datasets(project, train_ref, other_ref, max_rows=500)
    assert report["rows"] == {"reference": 500, "other": 500}
    assert report["status"] == "warning" and "income" in report["message"]
    stored = project.catalog.get_report(other_ref, f"compare:{train_ref}").payload
    assert stored["auc"] == report["auc"]
    with pytest.raises(InvalidInput, match="max_rows"):
        compare_datasets(project, train_ref, other_ref, max_rows=3)
