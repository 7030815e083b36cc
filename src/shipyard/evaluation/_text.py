"""A report's numbers in words: what the threshold means, which slices are flagged.

Shared by the HTML page, the terminal summary and the demo.
"""

from __future__ import annotations

from typing import Any

__all__ = ["flagged_slices", "pct", "threshold_reading"]


def threshold_reading(t: dict[str, Any]) -> str:
    """What the binary threshold means, in alerts, hits and misses."""
    c = t["confusion"]
    rule = (t.get("decision") or {}).get("rule", "f1")
    why = {
        "cost": "chosen to minimize the cost of false alarms and misses on validation",
        "alert_rate": "chosen to stay within the alert budget on validation",
        "f1": "chosen for the best F1 on validation",
    }.get(rule, f"rule {rule}")
    text = (
        f"At the threshold {t['value']:.4g} ({why}) the model flags {t['alerts']:,} of "
        f"{sum(c.values()):,} test rows ({pct(t['alert_rate'], 2)}"
    )
    if t.get("rows_per_alert"):
        text += f", one in {t['rows_per_alert']:,.0f}"
    text += f"): {c['tp']:,} hits and {c['fp']:,} false alarms"
    if t.get("precision") is not None:
        text += f" (precision {pct(t['precision'])})"
    text += f"; it catches {c['tp']:,} of {c['tp'] + c['fn']:,} positives"
    if t.get("recall") is not None:
        text += f" (recall {pct(t['recall'])})"
    text += "."
    if t.get("cost") is not None:
        text += f" Cost on test: {t['cost']:,.4g} ({t['cost_per_row']:.4g} per row)."
    return text


def flagged_slices(report: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(column, slice) of every flagged slice."""
    return [
        (col["column"], s)
        for col in (report.get("slices") or {}).get("columns", [])
        for s in col["slices"]
        if s["flags"]
    ]


def pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{100 * value:.{digits}f}%"
