"""The pitfalls Shipyard checks, in the order they are listed, and one check's result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["CHECKS", "STATUSES", "PitfallReport", "item", "not_checked", "ordered"]

CHECKS: dict[str, str] = {
    "target_leakage": "A column that leaks the target",
    "identifier_feature": "An identifier used as a feature",
    "shared_entities": "The same entity in train and test",
    "time_leakage": "Time leakage from a random split",
    "date_feature": "A date used as a model input",
    "model_output_feature": "Scores fed back as features",
    "duplicate_rows": "Rows repeated across train and test",
    "class_imbalance": "Class imbalance not handled",
    "label_bias": "Labels biased by a facet",
    "pii_feature": "Personal data as a feature",
    "non_representative": "A non-representative sample",
    "too_little_data": "Too little data",
    "overfit": "An overfit configuration",
    "feature_dominance": "One feature carrying the model",
    "untuned": "An untuned model",
    "drift": "A drifted production sample",
    "ungated_prod": "A model reaching prod without gates",
}
"""Each pitfall's key and the title the table shows."""

STATUSES = ("warning", "ok", "not checked")


def item(check: str, status: str, detail: str) -> dict[str, Any]:
    """One check's result: ``{check, title, status, detail}``; ``detail`` says what was seen
    and, for a warning, what to do (or why it was not checked)."""
    return {"check": check, "title": CHECKS[check], "status": status, "detail": detail}


def not_checked(check: str, why: str) -> dict[str, Any]:
    return item(check, "not checked", why)


@dataclass(frozen=True)
class PitfallReport:
    """Every pitfall check that applies to a dataset or a model version, with its status.

    ``subject`` is the dataset version (``name@N``) or model version (``name:N``) checked,
    ``kind`` ``dataset`` or ``model``; ``checks`` are in :data:`CHECKS` order.
    """

    subject: str
    kind: str
    checks: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {s: sum(c["status"] == s for c in self.checks) for s in STATUSES}

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "kind": self.kind,
            "counts": self.counts,
            "checks": self.checks,
            "notes": self.notes,
        }


def ordered(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The results in :data:`CHECKS` order."""
    rank = {key: i for i, key in enumerate(CHECKS)}
    return sorted(found, key=lambda c: rank[c["check"]])
