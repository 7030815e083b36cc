from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import duckdb
import numpy as np
import pandas as pd
import pytest

from shipyard.cli._output import emit_json


def _strict_loads(text: str) -> object:
    def refuse(name: str) -> object:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_query_results_print_as_strict_json(capsys: pytest.CaptureFixture[str]) -> None:
    result = duckdb.sql(
        "SELECT 'nan'::DOUBLE AS nan, '-inf'::DOUBLE AS inf, [1, 2] AS l, "
        "{'x': 1.5, 'y': ['a']} AS s, TIMESTAMP '2024-01-01 10:00' AS ts, "
        "DATE '2024-01-02' AS d, 1.25::DECIMAL(5, 2) AS dec, INTERVAL 90 SECOND AS iv, "
        "'\\x01'::BLOB AS b, NULL::INTEGER AS n"
    ).to_arrow_table()
    emit_json(result.to_pylist())
    row = _strict_loads(capsys.readouterr().out)[0]  # type: ignore[index]
    assert row == {
        "nan": None,
        "inf": None,
        "l": [1, 2],
        "s": {"x": 1.5, "y": ["a"]},
        "ts": "2024-01-01T10:00:00",
        "d": "2024-01-02",
        "dec": 1.25,
        "iv": "P0M0DT90S",
        "b": "AQ==",
        "n": None,
    }


def test_numpy_and_pandas_values_print_as_strict_json(capsys: pytest.CaptureFixture[str]) -> None:
    frame = pd.DataFrame(
        {
            "f": [1.0, np.nan],
            "l": [np.array([1, 2]), np.array([3])],
            "t": [pd.Timestamp("2024-01-01", tz="UTC"), pd.NaT],
            "i": pd.array([1, None], dtype="Int64"),
        }
    )
    emit_json(
        {
            "rows": frame.to_dict(orient="records"),
            "scalars": [np.float32("inf"), np.int64(3), np.datetime64("2024-01-01"), pd.NA],
            "python": [float("nan"), Decimal("NaN"), date(2024, 1, 2), timedelta(seconds=3)],
            "aware": datetime(2024, 1, 1, tzinfo=UTC),
        }
    )
    out = _strict_loads(capsys.readouterr().out)
    assert out == {
        "rows": [
            {"f": 1.0, "l": [1, 2], "t": "2024-01-01T00:00:00+00:00", "i": 1},
            {"f": None, "l": [3], "t": None, "i": None},
        ],
        "scalars": [None, 3, "2024-01-01", None],
        "python": [None, None, "2024-01-02", "PT3S"],
        "aware": "2024-01-01T00:00:00+00:00",
    }
