"""Alerts on a profile: the things a person should look at before training on the data."""

from __future__ import annotations

from typing import Any

from shipyard.analyze._leakage import leak_message, leaking

__all__ = ["alerts"]

HIGH_MISSING_PCT = 20.0
HIGH_CARDINALITY = 100
SKEWED = 2.0
MANY_ZEROS_PCT = 50.0
IMBALANCED_PCT = 10.0
SEVERE_IMBALANCE_PCT = 1.0


def _alert(kind: str, column: str | None, message: str, severity: str) -> dict[str, Any]:
    return {"kind": kind, "column": column, "message": message, "severity": severity}


def alerts(profile: dict[str, Any]) -> list[dict[str, Any]]:
    """Alerts for a profile, most severe first. Severities: error, warning, info."""
    out: list[dict[str, Any]] = []
    rows = profile["table"]["rows"]
    target = (profile.get("target") or {}).get("column")
    dups = profile["table"]["duplicate_rows"]
    if dups:
        out.append(
            _alert(
                "duplicate_rows",
                None,
                f"{dups:,} rows ({100 * dups / rows:.1f}%) are exact duplicates of another row.",
                "warning",
            )
        )
    for col in profile["columns"]:
        out += _column_alerts(col, target, profile.get("label_time"))
    out += _target_alerts(profile.get("target"))
    rank = {"error": 0, "warning": 1, "info": 2}
    out.sort(key=lambda a: rank[a["severity"]])
    return out


def _column_alerts(
    col: dict[str, Any], target: str | None, label_time: str | None
) -> list[dict[str, Any]]:
    """One column's alerts, in a fixed order (an empty column gets only that one)."""
    name = col["name"]
    if col["count"] == 0:
        return [_alert("empty", name, f"Column '{name}' has no values at all.", "error")]
    return (
        _content_alerts(col)
        + _role_alerts(col, target)
        + _distribution_alerts(col)
        + _leakage_alerts(col, label_time)
    )


def _content_alerts(col: dict[str, Any]) -> list[dict[str, Any]]:
    """A column that holds one value, or that is mostly missing."""
    name = col["name"]
    out: list[dict[str, Any]] = []
    if col.get("distinct") == 1:
        out.append(
            _alert(
                "constant",
                name,
                f"Column '{name}' holds a single value ({_first_value(col)}); it carries no "
                "information: drop it.",
                "warning",
            )
        )
    if col["missing_pct"] >= HIGH_MISSING_PCT:
        out.append(
            _alert(
                "high_missing",
                name,
                f"Column '{name}' is {col['missing_pct']:.1f}% missing ({col['missing']:,} rows).",
                "warning",
            )
        )
    return out


def _role_alerts(col: dict[str, Any], target: str | None) -> list[dict[str, Any]]:
    """A column that looks like an identifier, or a categorical too wide to one-hot."""
    name, sem = col["name"], col["semantic_type"]
    if col.get("written_by"):
        return [
            _alert(
                "model_output",
                name,
                f"Column '{name}' was written by Shipyard: the {col['written_by']}. A "
                "model's output fed back as a feature makes the next model lean on this one; "
                f"`shipyard train` leaves it out (--keep-column {name} to use it).",
                "warning",
            )
        ]
    if sem == "id-like" and name != target:
        why = col.get("identifier") or (
            f"a distinct value on (almost) every row ({col['distinct']:,} of {col['count']:,})"
        )
        return [
            _alert(
                "id_like",
                name,
                f"Column '{name}' is an identifier, not a feature: {why}. `shipyard train` "
                f"leaves it out (--keep-column {name} to use it).",
                "info",
            )
        ]
    if sem == "categorical" and (col.get("distinct") or 0) > HIGH_CARDINALITY:
        return [
            _alert(
                "high_cardinality",
                name,
                f"Column '{name}' has {col['distinct']:,} distinct values; one-hot encoding it "
                "would be wide: consider target or frequency encoding.",
                "info",
            )
        ]
    return []


def _distribution_alerts(col: dict[str, Any]) -> list[dict[str, Any]]:
    """A numeric column that is skewed, or mostly zeros."""
    name = col["name"]
    out: list[dict[str, Any]] = []
    if col["semantic_type"] != "numeric":
        return []
    if abs(col.get("skewness") or 0) > SKEWED:
        out.append(
            _alert(
                "skewed",
                name,
                f"Column '{name}' is skewed (skewness {col['skewness']:.1f}); a log or rank "
                "transform may help linear models.",
                "info",
            )
        )
    if col.get("zeros_pct", 0) >= MANY_ZEROS_PCT and col["distinct"] > 1:
        out.append(
            _alert("many_zeros", name, f"Column '{name}' is {col['zeros_pct']:.1f}% zeros.", "info")
        )
    return out


def _leakage_alerts(col: dict[str, Any], label_time: str | None) -> list[dict[str, Any]]:
    """Datetime values later than the label time: not known at prediction time."""
    if not col.get("after_label_time"):
        return []
    name = col["name"]
    return [
        _alert(
            "after_label_time",
            name,
            f"{col['after_label_time']:,} values of '{name}' are later than the label time "
            f"{label_time}: they cannot be known at prediction time (leakage).",
            "error",
        )
    ]


def _first_value(col: dict[str, Any]) -> str:
    top = col.get("top_values") or [{"value": col.get("min")}]
    return repr(top[0]["value"])


def _target_alerts(target: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not target:
        return []
    out = []
    name = target["column"]
    pct = target.get("minority_pct")
    if pct is not None and pct < IMBALANCED_PCT:
        out.append(
            _alert(
                "imbalanced_target",
                name,
                f"Target '{name}' is imbalanced: class {target['minority']!r} is {pct:.2f}% "
                "of rows "
                f"(ratio {target['imbalance_ratio']:.0f}:1). Use stratified splits and PR-AUC.",
                "error" if pct < SEVERE_IMBALANCE_PCT else "warning",
            )
        )
    for leak in leaking(target.get("associations", [])):
        out.append(
            _alert(
                "target_leakage",
                leak["column"],
                leak_message(leak, name),
                "error" if leak["rule"] == "absolute" else "warning",
            )
        )
    return out
