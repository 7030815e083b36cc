"""Check a dataset version against data-quality rules (see :mod:`shipyard.analyze.constraints`).

Schema rules (present, type) are read from the Parquet schema; every value rule is one
aggregate in a single DuckDB pass over the files. Only failing rules cost a second, small
query each, for a few example rows (file and row number) and the offending values.
"""

from __future__ import annotations

import math
from typing import Any

import duckdb

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
    schema = dataset.schema
    families = {f.name: type_family(f.type) for f in schema}
    violations: list[dict[str, Any]] = []
    value_rules: list[dict[str, Any]] = []
    absent: set[str] = set()
    mistyped: set[str] = set()

    def violate(rule: dict[str, Any], expected: Any, found: Any, count: int | None) -> None:
        violations.append(
            {
                "column": rule["column"],
                "rule": rule["rule"],
                "severity": rule["severity"],
                "expected": expected,
                "found": found,
                "count": count,
                "examples": [],
                "_rule": rule,
            }
        )

    for rule in doc["rules"]:
        name, kind = rule["column"], rule["rule"]
        if name not in families:
            if name not in absent:
                absent.add(name)
                violate(rule | {"rule": "present"}, "present", "absent", None)
            continue
        if kind == "type":
            fam, want = families[name], rule["expected"]
            if not (fam == want or (want == "float" and fam == "integer")):
                mistyped.add(name)
                violate(rule, want, f"{fam} ({schema.field(name).type})", None)
        elif kind != "present":
            value_rules.append(rule | {"column_family": families[name]})

    source = sql_source(files)
    con = duckdb_connect()
    try:
        selects = ["count(*) AS n"]
        params: dict[str, Any] = {}
        for i, rule in enumerate(value_rules):
            col = sql_ident(rule["column"])
            if rule["column"] in mistyped:
                selects.append("NULL")
            elif rule["rule"] == "unique":
                selects.append(f"count({col}) - count(DISTINCT {col})")
            else:
                selects.append(f"count(*) FILTER (WHERE {_predicate(rule, i)})")
                params |= _params(rule, i)
            if rule["rule"] == "range" and rule["column"] not in mistyped:
                selects.append(f"min({col})")
                selects.append(f"max({col})")
        # An aggregate without GROUP BY returns exactly one row.
        row = _run(con, f"SELECT {', '.join(selects)} FROM {source}", params).fetchall()[0]
        n_rows, values = int(row[0]), list(row[1:])
        for i, rule in enumerate(value_rules):
            bad = values.pop(0)
            lo = hi = None
            if rule["rule"] == "range" and rule["column"] not in mistyped:
                lo, hi = values.pop(0), values.pop(0)
            if rule["column"] in mistyped:
                continue
            if rule["rule"] == "completeness":
                completeness = 1 - bad / n_rows if n_rows else 1.0
                if completeness < rule["min"]:
                    violate(rule, f">= {rule['min']}", round(completeness, 6), int(bad))
            elif bad:
                if rule["rule"] == "range":
                    expected = f"[{rule.get('min', '-inf')}, {rule.get('max', '+inf')}]"
                    violate(rule, expected, f"[{_json(lo)}, {_json(hi)}]", int(bad))
                elif rule["rule"] == "allowed_values":
                    violate(rule, rule["values"], None, int(bad))
                else:
                    violate(rule, "unique", f"{int(bad):,} repeated values", int(bad))
            if violations and violations[-1]["_rule"] is rule:
                _examples(con, source, rule, i, violations[-1])
    finally:
        con.close()

    for v in violations:
        del v["_rule"]
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
