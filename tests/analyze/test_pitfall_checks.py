"""The profile's pitfall checks: a leak judged against the next best column, identifiers by
name, format and uniqueness over distinct rows, and Shipyard's own columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shipyard.analyze import entity_keys, identifiers, leaking, profile_parquet
from shipyard.analyze._identifiers import value_format
from shipyard.lake import mark_written, written_columns
from tests.pitfalls.planted import easy, leaky, per_customer, with_customer_ref


def _alerts(profile, column):
    return {a["kind"]: a for a in profile["alerts"] if a["column"] == column}


def _profile(frame: pd.DataFrame, tmp_path, **options):
    path = tmp_path / "t.parquet"
    frame.to_parquet(path, index=False)
    return profile_parquet([str(path)], **options)


def test_a_column_far_ahead_of_the_next_best_is_flagged_as_a_leak(tmp_path) -> None:
    profile = _profile(leaky(), tmp_path, target="label")
    alert = _alerts(profile, "status")["target_leakage"]
    assert alert["severity"] == "warning"
    assert "far better" in alert["message"] and "'x'" in alert["message"]
    assert "--exclude status" in alert["message"]
    assert not any(
        a["kind"] == "target_leakage" for a in profile["alerts"] if a["column"] != "status"
    )


def test_a_clean_table_has_no_leak_and_no_identifier(tmp_path) -> None:
    frame = easy(3000)
    frame["calls"] = np.random.default_rng(1).poisson(4, len(frame))
    profile = _profile(frame, tmp_path, target="label")
    kinds = {a["kind"] for a in profile["alerts"]}
    assert not kinds & {"target_leakage", "id_like", "model_output"}
    assert identifiers(frame) == {} and entity_keys(frame) == {}


@pytest.mark.parametrize(
    ("strengths", "leaks"),
    [
        pytest.param([0.99, 0.5], {"a": "absolute"}, id="absolute"),
        pytest.param([0.966, 0.70, 0.5], {"a": "relative"}, id="relative"),
        pytest.param([0.95, 0.94, 0.9, 0.5], {}, id="strong-is-the-norm"),
        pytest.param(
            [0.97, 0.965, 0.6, 0.5, 0.4], {"a": "relative", "b": "relative"}, id="copy-and-copy"
        ),
        pytest.param([0.8, 0.2], {}, id="strong-but-not-leaking"),
    ],
)
def test_the_leak_rule(strengths, leaks) -> None:
    assoc = [
        {"column": name, "metric": "auc", "value": (1 + s) / 2, "strength": s}
        for name, s in zip("abcde", strengths, strict=False)
    ]
    assert {a["column"]: a["rule"] for a in leaking(assoc)} == leaks


def test_an_integer_reference_is_an_identifier_even_with_repeated_rows(tmp_path) -> None:
    frame = with_customer_ref()
    assert len(frame) == 4300 and frame["customer_ref"].nunique() == 4000
    profile = _profile(frame, tmp_path, target="label")
    column = next(c for c in profile["columns"] if c["name"] == "customer_ref")
    assert column["semantic_type"] == "id-like"
    assert "300 repeated rows" in column["identifier"]
    assert "--keep-column customer_ref" in _alerts(profile, "customer_ref")["id_like"]["message"]
    assert "customer_ref" in identifiers(frame)
    assert "amount" not in identifiers(frame)


def test_unique_amounts_and_small_id_categories_are_not_identifiers(tmp_path, rng) -> None:
    n = 2000
    frame = pd.DataFrame(
        {
            "amount_cents": rng.choice(10**7, n, replace=False),  # unique, but an amount
            "region_id": rng.integers(0, 5, n),  # an id by name, but 5 values
            "row": np.arange(n) + 1000,  # sequential: an identifier
            "label": rng.integers(0, 2, n),
        }
    )
    assert set(identifiers(frame)) == {"row"}
    profile = _profile(frame, tmp_path)
    types = {c["name"]: c["semantic_type"] for c in profile["columns"]}
    assert types["amount_cents"] == "numeric" and types["row"] == "id-like"
    assert "id_like" not in _alerts(profile, "region_id")


def test_uuids_and_hashes_are_identifiers_and_entity_keys_repeat(rng) -> None:
    import hashlib
    import uuid

    uuids = [str(uuid.UUID(int=int(i))) for i in rng.integers(0, 2**62, 200)]
    hashes = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(200)]
    assert value_format(uuids) == "UUID" and value_format(hashes) == "hash"
    assert value_format(["FR", "DE"]) is None
    frame = pd.DataFrame({"device": np.repeat(hashes[:50], 4), "x": rng.normal(size=200)})
    assert "hash" in identifiers(frame)["device"]
    assert "device" in entity_keys(frame)
    assert set(entity_keys(per_customer())) == {"customer_id"}


def test_columns_shipyard_wrote_are_marked_and_alerted(tmp_path) -> None:
    table = pa.table({"x": np.arange(100.0), "score": np.linspace(0, 1, 100)})
    table = mark_written(table, {"score": "score of fraud:3, by batch transform"})
    pq.write_table(table, tmp_path / "s.parquet")
    assert written_columns(pq.read_schema(tmp_path / "s.parquet")) == {
        "score": "score of fraud:3, by batch transform"
    }
    profile = profile_parquet([str(tmp_path / "s.parquet")])
    alert = _alerts(profile, "score")["model_output"]
    assert "fraud:3" in alert["message"] and "--keep-column score" in alert["message"]
    assert "model_output" not in _alerts(profile, "x")
