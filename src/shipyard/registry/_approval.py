"""Approval: a reviewer approves or rejects a model version, with a comment; each change is
kept in the version's history and in the audit trail."""

from __future__ import annotations

from dataclasses import dataclass

from shipyard.entities import APPROVAL_STATUSES, ApprovalChange, ModelVersion, PromotionRecord
from shipyard.environments import resolve_version
from shipyard.errors import InvalidInput
from shipyard.project import Project

__all__ = [
    "APPROVAL_STATUSES",
    "ModelHistory",
    "approval_history",
    "approve_model",
    "model_history",
    "reject_model",
]

APPROVED, REJECTED = "Approved", "Rejected"


def approve_model(project: Project, ref: str, *, comment: str) -> ApprovalChange:
    """Mark the version ``ref`` names Approved (``fraud@prod``: in prod's catalog).

    Raises:
        InvalidInput: An empty comment, or a malformed reference.
        NotFound: No such model, version or alias.
        Conflict: The version is Approved already; nothing was changed.
    """
    return _set(project, ref, APPROVED, comment)


def reject_model(project: Project, ref: str, *, comment: str) -> ApprovalChange:
    """Mark the version ``ref`` names Rejected: it is never promoted until approved again.

    Raises:
        InvalidInput: An empty comment, or a malformed reference.
        NotFound: No such model, version or alias.
        Conflict: The version is Rejected already; nothing was changed.
    """
    return _set(project, ref, REJECTED, comment)


def approval_history(project: Project, ref: str) -> list[ApprovalChange]:
    """The approval changes of the version ``ref`` names, oldest first ([] while it has
    only ever been PendingManualApproval).

    Raises:
        NotFound: No such model, version or alias.
    """
    home, version = resolve_version(project, ref)
    return home.catalog.list_approvals(version.name, version.version)


@dataclass(frozen=True)
class ModelHistory:
    """A version with its approval changes and its promotion records (each with the result
    of every gate it was checked by), oldest first."""

    version: ModelVersion
    approvals: tuple[ApprovalChange, ...]
    promotions: tuple[PromotionRecord, ...]


def model_history(project: Project, ref: str) -> ModelHistory:
    """The version ``ref`` names, its approval history and its promotion records.

    Raises:
        NotFound: No such model, version or alias.
    """
    home, version = resolve_version(project, ref)
    return ModelHistory(
        version,
        tuple(home.catalog.list_approvals(version.name, version.version)),
        tuple(home.catalog.list_promotions(version.name, version.version)),
    )


def _set(project: Project, ref: str, status: str, comment: str | None) -> ApprovalChange:
    if not (comment or "").strip():
        verb = "approve" if status == APPROVED else "reject"
        raise InvalidInput(
            f'Say why: `shipyard models {verb} {ref} --comment "..."`. The comment is kept '
            "with the version's approval history. Got an empty comment."
        )
    home, version = resolve_version(project, ref)
    return home.catalog.set_approval(
        version.name, version.version, status, comment=str(comment).strip(), actor=project.actor
    )
