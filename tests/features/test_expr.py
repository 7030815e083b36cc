from __future__ import annotations

import math

import duckdb
import numpy as np
import pytest

from shipyard.errors import InvalidInput
from shipyard.features import parse_expression

EXPRESSIONS = [
    "a / b",
    "-a + b * c - (a - c) / nullif(b, 1)",
    "coalesce(a, b, 2.5) * least(a, b, c) - greatest(a, null, c)",
    "ln(a) + log10(b) + sqrt(c) + abs(a - b)",
    "(a > b) + (a <= c) * 2 - (b = c) + (a <> b)",
    "nullif(a, b) / (c - c)",
]


def _value(rng: np.random.Generator) -> float | None:
    pick = rng.random()
    if pick < 0.15:
        return None
    if pick < 0.25:
        return 0.0
    if pick < 0.3:
        return float(rng.choice([math.inf, -math.inf, math.nan]))
    if pick < 0.4:
        return float(rng.integers(-2, 3))
    return float(rng.normal(0, 10))


def _same(x: float | None, y: float | None) -> bool:
    if x is None or y is None:
        return x is y
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return x == y or math.isclose(x, y, rel_tol=1e-12)


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_sql_and_python_give_identical_values(text: str, rng: np.random.Generator) -> None:
    expression = parse_expression(text)
    rows = [{n: _value(rng) for n in "abc"} for _ in range(400)]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, a DOUBLE, b DOUBLE, c DOUBLE)")
    con.executemany(
        "INSERT INTO t VALUES (?, ?, ?, ?)",
        [(i, r["a"], r["b"], r["c"]) for i, r in enumerate(rows)],
    )
    sql = expression.to_sql(lambda name: f't."{name}"')
    got = [v for (v,) in con.execute(f"SELECT {sql} FROM t ORDER BY i").fetchall()]
    for row, from_sql in zip(rows, got, strict=True):
        from_python = expression.evaluate(row)
        assert _same(from_sql, from_python), (text, row, from_sql, from_python)


@pytest.mark.parametrize(
    ("text", "message"),
    [("a +", "ends too early"), ("a ; b", "unexpected"), ("foo(a)", "unknown function"),
     ("nullif(a)", "takes 2"), ("(a", "ends too early"), ("(a b", r"expected '\)'")],
)  # fmt: skip
def test_bad_expressions_say_why(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_expression(text)


def test_unknown_names_get_a_did_you_mean() -> None:
    with pytest.raises(InvalidInput, match="Did you mean 'sum_bytes_1h'"):
        parse_expression("sum_byte_1h / 2").check_names(["sum_bytes_1h"], "x")
