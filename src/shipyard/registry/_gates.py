"""Promotion gates: what a model version must show before it enters an environment.

Each gate returns a :class:`~shipyard.entities.GateResult` with its numbers. Which gates an
environment runs, and their settings, come from ``shipyard.yaml``
(:class:`~shipyard.environments.GatePlan`). A gate that cannot be checked (no held-out rows,
a facet column that is gone) fails and says why; a bundle that does not match its manifest
raises :class:`~shipyard.errors.IntegrityError`, which no override passes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from shipyard.entities import GateResult
from shipyard.environments import BiasFacet, GatePlan
from shipyard.errors import InvalidInput, NotFound
from shipyard.registry._champion import champion_gate
from shipyard.registry._gate_context import BASELINE_REPORT, GateContext

__all__ = ["BASELINE_REPORT", "GateContext", "run_gates"]

_SEVERITY = {"info": 0, "warning": 1, "error": 2}


def run_gates(context: GateContext, plan: GatePlan) -> list[GateResult]:
    """Every gate ``plan`` turns on, in order (approval, diagnostics, baseline, bias,
    champion), each with its evidence.

    Raises:
        IntegrityError: A bundle or a dataset does not match what was recorded.
    """
    gates: dict[str, Callable[[GateContext, GatePlan], GateResult]] = {
        "approval": approval_gate,
        "diagnostics": diagnostics_gate,
        "baseline": baseline_gate,
        "bias": bias_gate,
        "champion": champion_gate,
    }
    return [gates[name](context, plan) for name in plan.names]


def approval_gate(context: GateContext, plan: GatePlan) -> GateResult:
    """The version is Approved."""
    version = context.candidate
    history = context.source.catalog.list_approvals(version.name, version.version)
    last = history[-1] if history else None
    evidence: dict[str, Any] = {"status": version.approval}
    if last is not None:
        evidence.update(by=last.changed_by, at=last.changed_at.isoformat(), comment=last.comment)
    if version.approval == "Approved":
        by = f" by {last.changed_by} ({last.comment})" if last else ""
        return GateResult("approval", True, f"Approved{by}", evidence)
    return GateResult(
        "approval",
        False,
        f"{version.approval}: {context.environment} needs an Approved version "
        f"(`shipyard models approve {version.ref} --comment ...`)",
        evidence,
    )


def diagnostics_gate(context: GateContext, plan: GatePlan) -> GateResult:
    """No training diagnostic or split finding at the configured severity or above."""
    fail_on = plan.diagnostics.fail_on if plan.diagnostics else "error"
    lineage = context.candidate.lineage
    findings = [*lineage.get("diagnostics", []), *lineage.get("split", {}).get("findings", [])]
    counts = {level: 0 for level in _SEVERITY}
    bad = []
    for f in findings:
        severity = str(f.get("severity", "info"))
        counts[severity] = counts.get(severity, 0) + 1
        if _SEVERITY.get(severity, 0) >= _SEVERITY[fail_on]:
            bad.append({"check": f.get("check"), "severity": severity, "message": f.get("message")})
    evidence = {"fail_on": fail_on, "counts": counts, "failing": bad}
    shown = ", ".join(f"{n} {level}" for level, n in counts.items() if n) or "no findings"
    if bad:
        names = ", ".join(str(b["check"]) for b in bad)
        return GateResult(
            "diagnostics", False, f"{shown}; at {fail_on} or above: {names}", evidence
        )
    return GateResult("diagnostics", True, f"{shown}; none at {fail_on} or above", evidence)


def baseline_gate(context: GateContext, plan: GatePlan) -> GateResult:
    """A monitoring baseline is attached to the version."""
    version = context.candidate
    try:
        report = context.source.catalog.get_report(version.ref, BASELINE_REPORT)
    except NotFound:
        return GateResult(
            "baseline",
            False,
            f"no monitoring baseline; make one with `shipyard models baseline {version.ref} "
            "--create`",
            {"attached": False},
        )
    reference = report.payload.get("reference", {})
    evidence = {
        "attached": True,
        "created_at": report.created_at.isoformat(),
        "reference_rows": reference.get("rows"),
        "reference": reference.get("note"),
        "constraints": len(report.payload.get("constraints", {}).get("rules", [])),
    }
    rows = reference.get("rows")
    what = f"{rows:,} reference rows" if isinstance(rows, int) else "attached"
    return GateResult("baseline", True, f"{what}, made {report.created_at:%Y-%m-%d}", evidence)


def bias_gate(context: GateContext, plan: GatePlan) -> GateResult:
    """Post-training bias of the decisions on the held-out rows, within each facet's limits."""
    if plan.bias is None:  # pragma: no cover - run_gates only calls it when on
        return GateResult("bias", True, "not configured", {})
    try:
        entries = [_facet_bias(context, facet) for facet in plan.bias.facets]
    except (NotFound, InvalidInput) as exc:
        return GateResult("bias", False, f"cannot check: {exc.message}", {"error": exc.message})
    checks = [c for e in entries for c in e["checks"]]
    failing = [c for c in checks if not c["ok"]]
    evidence = {"rows": len(context.held_out), "facets": entries}
    if failing:
        shown = "; ".join(_bias_line(c) for c in failing[:4])
        more = f" (+{len(failing) - 4} more)" if len(failing) > 4 else ""
        return GateResult("bias", False, f"outside limits: {shown}{more}", evidence)
    worst = max(checks, key=lambda c: abs(c["value"]) if c["value"] is not None else 0)
    return GateResult(
        "bias", True, f"{len(checks)} metric(s) within limits; e.g. {_bias_line(worst)}", evidence
    )


def _facet_bias(context: GateContext, facet: BiasFacet) -> dict[str, Any]:
    from shipyard.analyze import posttraining_bias

    model = context.loaded.model
    problem = model.problem
    if problem.type != "binary":
        raise InvalidInput(
            f"post-training bias compares how a binary model treats groups; "
            f"{context.candidate.ref} is a {problem.type} model. Remove the bias gate."
        )
    frame = context.held_out
    if facet.column not in frame.columns:
        raise NotFound(
            f"the facet column '{facet.column}' is not in the held-out rows of "
            f"{context.candidate.ref}"
        )
    negative = next(c for c in problem.classes if c != problem.positive)
    decided = np.asarray(model.decide(context.scores), dtype=bool)
    report = posttraining_bias(
        frame[problem.target].to_numpy(),
        np.where(decided, problem.positive, negative),
        frame[facet.column].to_numpy(),
        positive=[problem.positive],
        facet_values=list(facet.values) if facet.values is not None else None,
        threshold=facet.threshold,
        facet_name=facet.column,
        label_name=problem.target,
    )
    checks = []
    for group in report["facets"]:
        for metric, limit in facet.limits.items():
            value = group["metrics"][metric]["value"]
            checks.append(
                {
                    "facet": facet.column,
                    "group": group["description"],
                    "metric": metric,
                    "value": value,
                    "limit": list(limit) if isinstance(limit, tuple) else limit,
                    "ok": _within(value, limit),
                }
            )
    return {"facet": facet.column, "rows": report["rows"], "checks": checks}


def _within(value: float | None, limit: float | tuple[float, float]) -> bool:
    if value is None:  # undefined (an empty group's ratio): cannot be shown within limits
        return False
    if isinstance(limit, tuple):
        return limit[0] <= value <= limit[1]
    return abs(value) <= limit


def _bias_line(check: dict[str, Any]) -> str:
    limit = check["limit"]
    bound = f"in [{limit[0]:g}, {limit[1]:g}]" if isinstance(limit, list) else f"|x| <= {limit:g}"
    value = "undefined" if check["value"] is None else f"{check['value']:.4f}"
    return f"{check['metric']} {check['facet']} {check['group']} = {value} (limit {bound})"
