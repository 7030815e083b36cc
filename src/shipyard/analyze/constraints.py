"""Data-quality rules: suggest them from a profile, keep them as YAML, validate them.

A constraints document is ``{"version": 1, "kind": "shipyard.constraints", "rules": [...]}``;
each rule names a ``column``, a ``rule`` kind, a ``severity`` (``error`` fails a check,
``warning`` is reported only) and the kind's parameters:

==============  =============================================  ===========================
rule            parameters                                     holds when
==============  =============================================  ===========================
present         —                                              the column exists
type            ``expected``: integer|float|string|boolean|    the Arrow type is of that
                datetime|binary                                family (float accepts ints)
completeness    ``min``: fraction in [0, 1]                    non-null share >= min
range           ``min`` and/or ``max``: numbers                every value within [min, max]
allowed_values  ``values``: a list                             every value is listed
unique          —                                              no value occurs twice
==============  =============================================  ===========================
"""

from __future__ import annotations

import math
from typing import Any

import pyarrow as pa
import yaml

from shipyard.errors import InvalidInput, did_you_mean

__all__ = [
    "CONSTRAINTS_VERSION",
    "RULES",
    "TYPE_FAMILIES",
    "dump_constraints_yaml",
    "load_constraints_yaml",
    "suggest_constraints",
    "type_family",
    "validate_constraints",
]

CONSTRAINTS_VERSION = 1
TYPE_FAMILIES = ("integer", "float", "string", "boolean", "datetime", "binary", "other")
# rule kind -> (required parameters, optional parameters)
RULES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "present": ((), ()),
    "type": (("expected",), ()),
    "completeness": (("min",), ()),
    "range": ((), ("min", "max")),
    "allowed_values": (("values",), ()),
    "unique": ((), ()),
}
_COMMON = ("column", "rule", "severity", "description")
COMPLETENESS_SLACK = 0.05  # a suggested completeness floor sits this far below what was seen


def type_family(arrow_type: pa.DataType | str) -> str:
    """The family of an Arrow type (or its string form, as a profile stores it)."""
    t = arrow_type if isinstance(arrow_type, pa.DataType) else None
    s = str(arrow_type)
    if t is not None:
        if pa.types.is_dictionary(t):
            return type_family(t.value_type)
        if pa.types.is_boolean(t):
            return "boolean"
        if pa.types.is_integer(t):
            return "integer"
        if pa.types.is_floating(t) or pa.types.is_decimal(t):
            return "float"
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            return "string"
        if pa.types.is_temporal(t):
            return "datetime"
        if pa.types.is_binary(t) or pa.types.is_large_binary(t):
            return "binary"
        return "other"
    for prefix, family in (
        ("bool", "boolean"),
        ("int", "integer"),
        ("uint", "integer"),
        ("float", "float"),
        ("double", "float"),
        ("halffloat", "float"),
        ("decimal", "float"),
        ("string", "string"),
        ("large_string", "string"),
        ("timestamp", "datetime"),
        ("date", "datetime"),
        ("time", "datetime"),
        ("duration", "datetime"),
        ("binary", "binary"),
        ("large_binary", "binary"),
        ("dictionary<values=string", "string"),
    ):
        if s.startswith(prefix):
            return family
    return "other"


def suggest_constraints(profile: dict[str, Any]) -> dict[str, Any]:
    """Rules that the profiled data satisfies, to check later versions against.

    Every column must be present with its type (errors). A column with no missing value must
    stay complete (error); otherwise its completeness may drop at most 5 points (warning).
    Numeric columns keep their observed range, categorical columns with at most 50 values
    their set of values, and identifier columns that were unique stay unique (warnings, but
    uniqueness is an error).
    """
    if not isinstance(profile, dict) or "columns" not in profile:
        raise InvalidInput(
            "suggest_constraints expects a profile from profile_parquet (a dict with "
            f"'columns'). Got {type(profile).__name__} instead."
        )
    rules: list[dict[str, Any]] = []
    for col in profile["columns"]:
        name, sem = col["name"], col["semantic_type"]
        family = type_family(col["physical_type"])
        rules.append({"column": name, "rule": "present", "severity": "error"})
        rules.append(
            {
                "column": name,
                "rule": "type",
                "expected": family,
                "severity": "error",
            }
        )
        completeness = col["count"] / col["rows"] if col["rows"] else 1.0
        if completeness == 1.0:
            rules.append({"column": name, "rule": "completeness", "min": 1.0, "severity": "error"})
        else:
            floor = max(0.0, math.floor((completeness - COMPLETENESS_SLACK) * 100) / 100)
            rules.append(
                {"column": name, "rule": "completeness", "min": floor, "severity": "warning"}
            )
        if sem == "numeric" and col.get("min") is not None and not col.get("non_finite"):
            rules.append(
                {
                    "column": name,
                    "rule": "range",
                    "min": col["min"],
                    "max": col["max"],
                    "severity": "warning",
                }
            )
        if sem == "categorical" and family == "string" and col.get("levels") is not None:
            rules.append(
                {
                    "column": name,
                    "rule": "allowed_values",
                    "values": list(col["levels"]),
                    "severity": "warning",
                }
            )
        if sem == "id-like" and col.get("distinct") == col["count"] and col["missing"] == 0:
            rules.append({"column": name, "rule": "unique", "severity": "error"})
    return {"version": CONSTRAINTS_VERSION, "kind": "shipyard.constraints", "rules": rules}


def _bad(where: str, message: str) -> InvalidInput:
    return InvalidInput(f"Invalid constraints: {where}: {message}")


def validate_constraints(doc: Any) -> dict[str, Any]:
    """Check a constraints document's shape; returns it (normalized) or raises InvalidInput."""
    if not isinstance(doc, dict):
        raise _bad("top level", f"expected a mapping with 'rules'. Got {type(doc).__name__}.")
    version = doc.get("version", CONSTRAINTS_VERSION)
    if version != CONSTRAINTS_VERSION:
        raise _bad(
            "version", f"this Shipyard reads version {CONSTRAINTS_VERSION}. Got {version!r}."
        )
    extra = set(doc) - {"version", "kind", "rules"}
    if extra:
        raise _bad("top level", f"unknown key(s) {sorted(extra)}; expected version, kind, rules.")
    rules = doc.get("rules")
    if not isinstance(rules, list):
        raise _bad("rules", f"expected a list of rules. Got {type(rules).__name__}.")
    out = []
    for i, rule in enumerate(rules, 1):
        where = f"rule {i}"
        if not isinstance(rule, dict):
            raise _bad(where, f"expected a mapping. Got {rule!r}.")
        column, kind = rule.get("column"), rule.get("rule")
        if not isinstance(column, str) or not column:
            raise _bad(where, "'column' must be a column name.")
        where = f"rule {i} ({kind} on '{column}')"
        if kind not in RULES:
            raise _bad(
                where,
                f"unknown rule {kind!r}.{did_you_mean(str(kind), RULES)} Rules: {list(RULES)}.",
            )
        severity = rule.get("severity", "error")
        if severity not in ("error", "warning"):
            raise _bad(where, f"severity must be 'error' or 'warning'. Got {severity!r}.")
        required, optional = RULES[kind]
        allowed = set(required) | set(optional) | set(_COMMON)
        for key in rule:
            if key not in allowed:
                raise _bad(
                    where,
                    f"unknown key {key!r}.{did_you_mean(key, allowed)} "
                    f"Keys for {kind}: {sorted(allowed)}.",
                )
        for key in required:
            if key not in rule:
                raise _bad(where, f"missing {key!r}.")
        _check_params(where, kind, rule)
        out.append(rule | {"severity": severity})
    return {"version": CONSTRAINTS_VERSION, "kind": "shipyard.constraints", "rules": out}


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _check_params(where: str, kind: str, rule: dict[str, Any]) -> None:
    if kind == "type" and rule["expected"] not in TYPE_FAMILIES:
        raise _bad(
            where, f"expected must be one of {list(TYPE_FAMILIES)}. Got {rule['expected']!r}."
        )
    if kind == "completeness" and not (_is_number(rule["min"]) and 0 <= rule["min"] <= 1):
        raise _bad(where, f"min must be a fraction between 0 and 1. Got {rule['min']!r}.")
    if kind == "range":
        if "min" not in rule and "max" not in rule:
            raise _bad(where, "give min, max or both.")
        for key in ("min", "max"):
            if key in rule and not _is_number(rule[key]):
                raise _bad(where, f"{key} must be a number. Got {rule[key]!r}.")
        if "min" in rule and "max" in rule and rule["min"] > rule["max"]:
            raise _bad(where, f"min {rule['min']} is above max {rule['max']}.")
    if kind == "allowed_values" and (not isinstance(rule["values"], list) or not rule["values"]):
        raise _bad(where, f"values must be a non-empty list. Got {rule['values']!r}.")


def dump_constraints_yaml(constraints: dict[str, Any]) -> str:
    """The constraints as YAML text (validated first), rules in order, one mapping each."""
    doc = validate_constraints(constraints)
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, default_flow_style=None)


def load_constraints_yaml(text: str) -> dict[str, Any]:
    """Parse and validate constraints YAML; a bad file raises InvalidInput naming the problem."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "the file"
        problem = getattr(exc, "problem", None) or str(exc)
        raise InvalidInput(f"Constraints file is not valid YAML at {where}: {problem}.") from exc
    return validate_constraints(doc)
