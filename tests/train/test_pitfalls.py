"""Training's pitfall checks, each on a planted case and on a clean one: a leak, the same
entity on both sides, time-stamped rows split at random, dates / identifiers / Shipyard's
own columns as features, too little data, an untuned model."""

from __future__ import annotations

import numpy as np
import pytest
from tests.pitfalls.planted import easy, hard, leaky, per_customer, per_day, with_customer_ref

from shipyard.errors import InvalidInput
from shipyard.model import FeatureEncoder, infer_problem
from shipyard.train import TrainSpec, split_frame, train
from shipyard.train._fitting import Parts
from shipyard.train._pitfalls import learning_curve, tuning, why_left_out


def _checks(split) -> dict[str, dict]:
    return {f["check"]: f for f in split.findings}


def test_the_split_flags_a_column_far_ahead_of_the_rest() -> None:
    finding = _checks(split_frame(leaky(), "label"))["target_leakage"]
    assert finding["column"] == "status" and finding["severity"] == "warning"
    excluded = split_frame(leaky(), "label", exclude=["status"])
    assert "target_leakage" not in _checks(excluded)
    assert split_frame(easy(3000), "label").findings == []


def test_a_random_split_of_repeated_entities_warns_and_suggests_a_group_split() -> None:
    finding = _checks(split_frame(per_customer(), "label"))["shared_entities"]
    assert finding["column"] == "customer_id"
    assert "--split group --group-column customer_id" in finding["message"]
    grouped = split_frame(per_customer(), "label", strategy="group", group_column="customer_id")
    assert grouped.findings == []
    unique = per_customer(rows_each=1)
    assert "shared_entities" not in _checks(split_frame(unique, "label"))


def test_time_stamped_rows_split_at_random_say_what_a_time_split_gives() -> None:
    finding = _checks(split_frame(per_day(), "label"))["time_leakage"]
    compared = finding["comparison"]
    assert finding["column"] == "day" and compared["metric"] == "roc_auc"
    assert compared["random"] > compared["time"] + 0.1
    assert f"{compared['time']:.3f} on a time split" in finding["message"]
    assert "--split time --time-column day" in finding["message"]
    by_time = split_frame(per_day(), "label", strategy="time", time_column="day")
    assert "time_leakage" not in _checks(by_time)


def test_dates_and_identifiers_are_left_out_unless_kept(project, ingest) -> None:
    frame = with_customer_ref()
    frame["opened"] = np.datetime64("2025-01-01") + np.arange(len(frame)).astype("m8[h]")
    ref = ingest(frame, "loans")
    result = train(project, ref, "label", allow_leakage=True)
    inputs = {c["name"] for c in result.model_version.signature["inputs"]}
    assert inputs == {"amount", "plan"}
    assert "identifier" in result.dropped_columns["customer_ref"]
    assert "date" in result.dropped_columns["opened"]
    kept = train(project, ref, "label", allow_leakage=True, keep_columns=["opened"])
    assert "opened" in {c["name"] for c in kept.model_version.signature["inputs"]}
    assert "opened" in kept.model_version.lineage["pitfalls"]["kept"]
    with pytest.raises(InvalidInput, match="both excluded and kept"):
        train(project, ref, "label", exclude=["opened"], keep_columns=["opened"])


def test_timestamps_kept_as_text_are_a_date_not_an_identifier_or_a_category() -> None:
    # Parquet and pandas keep ISO-8601 times as strings; each one is distinct, which made
    # them "an identifier: strings" (openintro's email table), and kept, a category.
    frame = with_customer_ref()
    stamps = np.datetime64("2025-01-01T00:00:00") + np.arange(len(frame)).astype("m8[m]")
    frame["sent"] = [f"{t}Z" for t in stamps]
    frame["day"] = [str(t)[:10] for t in stamps]
    frame["code"] = [f"2025-{k:06d}" for k in range(len(frame))]  # not a date
    frame["late"] = frame["day"].where(frame.index < 250, "unknown")  # dates, then not
    frame["sku"] = [f"{1000 + k % 9000}-{k % 90 + 10}-{k % 80 + 20}" for k in range(len(frame))]
    frame["zones"] = [f"{t}+0{k % 2}:00" for k, t in enumerate(stamps)]  # mixed offsets
    why = why_left_out(frame, {}, ["sent", "day", "code", "amount"])
    assert why["sent"].startswith("a date or time") and why["day"].startswith("a date or time")
    assert "date" not in why.get("code", "") and "amount" not in why
    encoder = FeatureEncoder(exclude=["label"]).fit(frame)
    kinds = {spec.name: spec.kind for spec in encoder.columns_}
    assert kinds["sent"] == kinds["day"] == "datetime"
    assert kinds.get("code") != "datetime" and kinds.get("late") != "datetime"
    assert kinds.get("sku") != "datetime" and kinds.get("zones") != "datetime"
    hours = encoder.encode_records([{**frame.iloc[0].to_dict(), "sent": "2026-03-01T17:45:00Z"}])
    assert hours.matrix[0, encoder.feature_names_.index("sent__hour")] == 17


def _curve(frame, seed: int = 0) -> dict:
    split = split_frame(frame, "label", seed=seed)
    problem = infer_problem(frame["label"])
    y = problem.encode(frame["label"])
    encoder = FeatureEncoder(exclude=["label"]).fit(frame.iloc[split.train])
    rows = {"train": split.train, "valid": split.valid, "test": split.test}
    parts = Parts(
        {k: encoder.encode_frame(frame.iloc[r]).matrix for k, r in rows.items()},
        {k: y[r] for k, r in rows.items()},
        [],
        list(encoder.feature_names_),
    )
    return learning_curve(problem, parts, seed)


def test_the_learning_curve_says_when_more_rows_would_help() -> None:
    rising = _curve(hard(1000))
    assert rising["status"] == "warning" and "Too little data" in rising["message"]
    assert rising["scores"][2] > rising["scores"][1] > rising["scores"][0]
    flat = _curve(easy(8000))
    assert flat["status"] == "ok" and "no longer rises" in flat["message"]


def test_training_reports_too_little_data_and_an_untuned_fit(project, ingest) -> None:
    result = train(project, ingest(hard(1000), "small"), "label")
    checks = {f["check"] for f in result.findings}
    assert checks == {"too_little_data", "untuned"}
    lineage = result.model_version.lineage
    assert lineage["tuning"] == {"searched": False, "params": "default", "untuned": True}
    assert lineage["pitfalls"]["learning_curve"]["status"] == "warning"
    assert result.run.tags["untuned"] is True
    report = project.catalog.get_report(result.model_version.ref, "evaluation").payload
    assert {"too_little_data", "untuned"} <= {d["check"] for d in report["diagnostics"]}


def test_given_params_or_a_search_are_not_untuned() -> None:
    assert tuning(TrainSpec.of(params={"num_leaves": 15}))["untuned"] is False
    assert tuning(TrainSpec.of(time_budget=30))["searched"] is True
