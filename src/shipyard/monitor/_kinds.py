"""The checks a monitor runs on a window that need no labels: data quality, drift (through
:func:`shipyard.monitor.compare`) and feature-attribution drift.

Each returns a section of the run's report: ``{"kind", "status", "summary", "violations":
[{"severity", "violation", "evidence"}], ...}``, with SageMaker Model Monitor's violation
names where one exists.
"""

from __future__ import annotations

from typing import Any

from shipyard.artifacts import SEALED_PROTOCOL
from shipyard.monitor._attribution import (
    ATTRIBUTION_ROWS,
    NDCG_THRESHOLD,
    bounded_attribution,
    ndcg,
)
from shipyard.monitor._window import BASE_COLUMNS, Window

# The analyze room's rule kinds -> Model Monitor's violation names.
_RULE_VIOLATION = {
    "present": "missing_column_check",
    "type": "data_type_check",
    "completeness": "completeness_check",
    "allowed_values": "categorical_values_check",
    "range": "range_check",
}


def section(kind: str, violations: list[dict[str, Any]], summary: str, **extra: Any) -> dict:
    return {
        "kind": kind,
        "status": "violations" if violations else "ok",
        "summary": summary,
        "violations": violations,
        **extra,
    }


def skipped(kind: str, why: str) -> dict[str, Any]:
    return {"kind": kind, "status": "skipped", "summary": why, "violations": []}


def violation(severity: str, name: str, **evidence: Any) -> dict[str, Any]:
    return {"severity": severity, "violation": name, "evidence": evidence}


def data_quality(window: Window) -> dict[str, Any]:
    """The baseline's constraints on the window's rows, plus extra columns."""
    from shipyard.analyze import check_constraints

    found = check_constraints([str(window.path)], window.baseline["constraints"])
    out = [
        violation(
            v["severity"],
            _RULE_VIOLATION.get(v["rule"], f"{v['rule']}_check"),
            column=v["column"],
            rule=v["rule"],
            expected=v["expected"],
            found=v["found"],
            rows=v["count"],
            share=(v["count"] / window.rows) if v["count"] is not None else None,
            examples=v["examples"][:3],
        )
        for v in found["violations"]
    ]
    inputs = set(window.inputs)
    extra = [c for c in window.columns if c not in inputs and c not in BASE_COLUMNS]
    out += [violation("warning", "extra_column_check", column=c) for c in extra]
    summary = (
        f"{found['rules_checked']} rules on {window.rows:,} rows: {len(out)} violation(s)"
        if out
        else f"{found['rules_checked']} rules on {window.rows:,} rows: all hold"
    )
    return section("data-quality", out, summary, rules_checked=found["rules_checked"])


def drift(window: Window) -> dict[str, Any]:
    """Each input and the score against the baseline's reference sample, and the
    multivariate check, by :func:`shipyard.monitor.compare`."""
    from shipyard.monitor._source import DriftInput
    from shipyard.monitor.drift import compare

    reference = _reference_path(window)
    columns = [c for c in [*window.inputs, "score"] if c in window.columns]
    report = compare(
        None,
        DriftInput.of_parquet(reference, label=f"baseline of {window.version.ref}"),
        DriftInput.of_parquet(str(window.path), label="captured window"),
        columns=columns,
    )
    out = []
    for col in report.columns:
        if not col.drifted:
            continue
        out.append(
            violation(
                "error" if col.column == "score" else "warning",
                "baseline_drift_check",
                column=col.column,
                test=col.test,
                statistic=col.statistic,
                threshold=col.threshold,
                distance=col.distance,
                p_adjusted=col.p_adjusted,
                explanation=col.explanation,
            )
        )
    mv = report.multivariate
    if mv is not None and mv.drifted:
        out.append(
            violation(
                "warning",
                "multivariate_drift_check",
                method=mv.method,
                statistic=mv.statistic,
                threshold=mv.threshold,
                explanation=mv.explanation,
            )
        )
    drifted = ", ".join(report.drifted_columns) or "none"
    summary = f"{report.n_drifted} of {report.n_columns} columns drifted ({drifted})"
    return section("drift", out, summary, report=report.to_dict())


def attribution(window: Window) -> dict[str, Any]:
    """NDCG of the mean |SHAP| ranking on (a sample of) the window against the baseline's."""
    base = window.baseline.get("attribution")
    if not base:
        return skipped(
            "attribution",
            "the baseline has no attribution ranking (the model's "
            "family cannot explain single predictions)",
        )
    explained = bounded_attribution(
        window.model, window.frame(window.inputs, limit=ATTRIBUTION_ROWS)
    )
    if not explained or not explained[0]:
        return skipped("attribution", "the model could not explain the window's rows")
    current, rows = explained
    baseline = {f["feature"]: f["value"] for f in base["features"]}
    score = ndcg(baseline, current)
    top = list(current)[:5]
    evidence = {
        "ndcg": score,
        "threshold": NDCG_THRESHOLD,
        "baseline_top": list(baseline)[:5],
        "current_top": top,
        "rows": rows,
    }
    out = (
        [violation("warning", "feature_attribution_drift_check", **evidence)]
        if score < NDCG_THRESHOLD
        else []
    )
    summary = f"NDCG {score:.3f} (alert below {NDCG_THRESHOLD}); top now: {', '.join(top)}"
    current_list = [{"feature": k, "value": v} for k, v in current.items()]
    return section("attribution", out, summary, ndcg=score, current=current_list)


def _reference_path(window: Window) -> str:
    ref = window.baseline["reference"]
    fs, path = window.project.artifacts.filesystem(ref["key"])
    protocols = (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)
    if "file" in protocols:
        return path
    if window.path is not None and SEALED_PROTOCOL in protocols:
        # Encrypted at rest: a plaintext copy beside the window's, in the same temp folder.
        copy = window.path.with_name("reference.parquet")
        copy.write_bytes(window.project.artifacts.get_bytes(ref["key"]))
        return str(copy)
    return window.project.artifacts.uri(ref["key"])
