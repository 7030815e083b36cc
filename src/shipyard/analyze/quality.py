"""Check a dataset version against data-quality rules (see :mod:`shipyard.analyze.constraints`).

Schema rules (present, type) are read from the Parquet schema; every value rule is one
aggregate in a single DuckDB pass over the files. Only failing rules cost a second, small
query each, for a few example rows (file and row number) and the offending values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from shipyard.analyze._io import Paths, duckdb_connect, open_dataset, sql_ident, sql_source
from shipyard.analyze.constraints import type_family, validate_constraints
from shipyard.errors import InvalidInput

__all__ = ["QUALITY_VERSION", "check_constraints"]

QUALITY_VERSION = 1
EXAMPLES = 5


def _json(v: Any) -> Any:
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)  # "inf", "-inf", "nan": JSON has no such numbers
    if isinstance(v, bytes):
        return v.hex()
    return v


def _predicate(rule: dict[str, Any], i: int) -> str:
    """SQL that is true on a row violating a value rule (parameters named ``p{i}_*``)."""
    col = sql_ident(rule["column"])
    kind = rule["rule"]
    if kind == "completeness":
        return f"{col} IS NULL"
    if kind == "range":
        parts = []
        if "min" in rule:
            parts.append(f"{col} < $p{i}_min")
        if "max" in rule:
            parts.append(f"{col} > $p{i}_max")
        if rule["column_family"] == "float":
            parts.append(f"isnan({col})")  # NaN sits outside any range
        return "(" + " OR ".join(parts) + ")"
    if kind == "allowed_values":
        return f"({col} IS NOT NULL AND NOT list_contains($p{i}_values, {col}))"
    raise ValueError(kind)  # pragma: no cover - only value rules get here


def _params(rule: dict[str, Any], i: int) -> dict[str, Any]:
    keys = {"range": ("min", "max"), "allowed_values": ("values",)}.get(rule["rule"], ())
    return {f"p{i}_{k}": rule[k] for k in keys if k in rule}


def check_constraints(paths: Paths, constraints: dict[str, Any]) -> dict[str, Any]:
    """Check the Parquet files against ``constraints``; report every violated rule.

    Returns:
        ``{"version", "passed", "rows", "rules_checked", "violations": [{"column", "rule",
        "severity", "expected", "found", "count", "examples"}], "counts": {"error": n,
        "warning": n}}``. ``passed`` is false when a rule of severity ``error`` fails.
        ``count`` is the number of offending rows (for ``unique``: rows that repeat an
        earlier value); ``examples`` holds up to 5 offending rows as ``{"file", "row",
        "value"}`` (for ``unique``: the repeated values with how often they occur).

    Raises:
        InvalidInput: Malformed constraints, unreadable files, or a rule whose values cannot
            be compared with the column (e.g. text values for a numeric column).
        NotFound: A missing file.
    """
    doc = validate_constraints(constraints)
    dataset, files = open_dataset(paths)
    violations, value_rules, mistyped = _check_schema(doc["rules"], dataset.schema)
    n_rows, value_violations = _check_values(files, value_rules, mistyped)
    violations += value_violations
    counts = {
        "error": sum(v["severity"] == "error" for v in violations),
        "warning": sum(v["severity"] == "warning" for v in violations),
    }
    return {
        "version": QUALITY_VERSION,
        "kind": "shipyard.quality",
        "passed": counts["error"] == 0,
        "rows": n_rows,
        "rules_checked": len(doc["rules"]),
        "counts": counts,
        "violations": violations,
    }


def _violation(rule: dict[str, Any], expected: Any, found: Any, count: int | None) -> dict:
    return {
        "column": rule["column"],
        "rule": rule["rule"],
        "severity": rule["severity"],
        "expected": expected,
        "found": found,
        "count": count,
        "examples": [],
    }


def _check_schema(
    rules: list[dict[str, Any]], schema: pa.Schema
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], set[str]]:
    """Violations of the schema rules (present, type), the value rules, the mistyped columns.

    Value rules on an absent or mistyped column are not checked: the schema violation already
    says what is wrong there.
    """
    families = {f.name: type_family(f.type) for f in schema}
    violations: list[dict[str, Any]] = []
    value_rules: list[dict[str, Any]] = []
    absent: set[str] = set()
    mistyped: set[str] = set()
    for rule in rules:
        name, kind = rule["column"], rule["rule"]
        if name not in families:
            if name not in absent:
                absent.add(name)
                violations.append(_violation(rule | {"rule": "present"}, "present", "absent", None))
            continue
        if kind == "type":
            fam, want = families[name], rule["expected"]
            if not (fam == want or (want == "float" and fam == "integer")):
                mistyped.add(name)
                violations.append(
                    _violation(rule, want, f"{fam} ({schema.field(name).type})", None)
                )
        elif kind != "present":
            value_rules.append(rule | {"column_family": families[name]})
    return violations, value_rules, mistyped


@dataclass(frozen=True)
class _Tally:
    """What the one aggregate pass found for a value rule."""

    bad: int  # offending rows (for unique: rows that repeat an earlier value)
    low: Any = None  # the column's minimum, for a range rule
    high: Any = None  # the column's maximum, for a range rule


def _check_values(
    files: list[str], rules: list[dict[str, Any]], mistyped: set[str]
) -> tuple[int, list[dict[str, Any]]]:
    """The row count, and the violations of the value rules with their example rows."""
    source = sql_source(files)
    con = duckdb_connect()
    try:
        n_rows, tallies = _tally(con, source, rules, mistyped)
        violations = []
        for i, (rule, tally) in enumerate(zip(rules, tallies, strict=True)):
            violation = None if tally is None else _value_violation(rule, tally, n_rows)
            if violation is not None:
                _examples(con, source, rule, i, violation)
                violations.append(violation)
    finally:
        con.close()
    return n_rows, violations


def _tally(
    con: duckdb.DuckDBPyConnection, source: str, rules: list[dict[str, Any]], mistyped: set[str]
) -> tuple[int, list[_Tally | None]]:
    """The row count and each value rule's tally (None on a mistyped column), in one query.

    A mistyped column keeps a NULL in the query, so that parameter names (``p{i}_*``), and
    with them DuckDB's messages, follow the rules' positions.
    """
    selects = ["count(*) AS n"]
    params: dict[str, Any] = {}
    for i, rule in enumerate(rules):
        col = sql_ident(rule["column"])
        if rule["column"] in mistyped:
            selects.append("NULL")
            continue
        if rule["rule"] == "unique":
            selects.append(f"count({col}) - count(DISTINCT {col})")
        else:
            selects.append(f"count(*) FILTER (WHERE {_predicate(rule, i)})")
            params |= _params(rule, i)
        if rule["rule"] == "range":
            selects.append(f"min({col})")
            selects.append(f"max({col})")
    # An aggregate without GROUP BY returns exactly one row.
    row = _run(con, f"SELECT {', '.join(selects)} FROM {source}", params).fetchall()[0]
    values = iter(row[1:])
    tallies: list[_Tally | None] = []
    for rule in rules:
        if rule["column"] in mistyped:
            next(values)  # its NULL
            tallies.append(None)
        elif rule["rule"] == "range":
            tallies.append(_Tally(next(values), next(values), next(values)))
        else:
            tallies.append(_Tally(next(values)))
    return int(row[0]), tallies


def _value_violation(rule: dict[str, Any], tally: _Tally, n_rows: int) -> dict[str, Any] | None:
    """The violation of a value rule, or None when the data keeps it."""
    bad = tally.bad
    if rule["rule"] == "completeness":
        completeness = 1 - bad / n_rows if n_rows else 1.0
        if completeness < rule["min"]:
            return _violation(rule, f">= {rule['min']}", round(completeness, 6), int(bad))
        return None
    if not bad:
        return None
    if rule["rule"] == "range":
        expected = f"[{rule.get('min', '-inf')}, {rule.get('max', '+inf')}]"
        return _violation(rule, expected, f"[{_json(tally.low)}, {_json(tally.high)}]", int(bad))
    if rule["rule"] == "allowed_values":
        return _violation(rule, rule["values"], None, int(bad))
    return _violation(rule, "unique", f"{int(bad):,} repeated values", int(bad))


def _run(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]
) -> duckdb.DuckDBPyConnection:
    try:
        return con.execute(sql, params or None)
    except duckdb.Error as exc:
        raise InvalidInput(
            f"A rule could not be checked against the data: {exc}. Check that each rule's "
            "values have the column's type (numbers for a numeric column, text for text)."
        ) from exc


def _examples(
    con: duckdb.DuckDBPyConnection, source: str, rule: dict[str, Any], i: int, out: dict
) -> None:
    col = sql_ident(rule["column"])
    with_rows = source.replace("])", "], filename=true, file_row_number=true)", 1)
    if rule["rule"] == "unique":
        rows = _run(
            con,
            f"SELECT {col}, count(*) AS c FROM {source} WHERE {col} IS NOT NULL "
            f"GROUP BY 1 HAVING count(*) > 1 ORDER BY c DESC, 1 LIMIT {EXAMPLES}",
            {},
        ).fetchall()
        out["examples"] = [{"value": _json(v), "occurrences": int(c)} for v, c in rows]
        return
    pred, params = _predicate(rule, i), _params(rule, i)
    rows = _run(
        con,
        f"SELECT filename, file_row_number, {col} FROM {with_rows} WHERE {pred} "
        f"ORDER BY filename, file_row_number LIMIT {EXAMPLES}",
        params,
    ).fetchall()
    out["examples"] = [{"file": f, "row": int(r), "value": _json(v)} for f, r, v in rows]
    if rule["rule"] == "allowed_values":
        found = _run(
            con,
            f"SELECT {col}, count(*) AS c FROM {source} WHERE {pred} "
            "GROUP BY 1 ORDER BY c DESC, 1 LIMIT 10",
            params,
        ).fetchall()
        out["found"] = [{"value": _json(v), "count": int(c)} for v, c in found]
