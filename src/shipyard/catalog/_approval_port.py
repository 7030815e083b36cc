"""The catalog's approval and promotion methods: part of
:class:`~shipyard.catalog.base.Catalog`'s contract, which states the rules every method follows
(thread safety, one transaction with its audit event, errors)."""

from __future__ import annotations

import abc
from collections.abc import Sequence

from shipyard.entities import (
    Actor,
    ApprovalChange,
    GateResult,
    ModelVersion,
    PromotionRecord,
)

__all__ = ["ApprovalPort"]


class ApprovalPort(abc.ABC):
    """Model versions' approval status and its history, promotion records with their gates,
    and the import of a version from another catalog (an environment's own)."""

    @abc.abstractmethod
    def set_approval(
        self, name: str, version: int, status: str, *, comment: str, actor: Actor
    ) -> ApprovalChange:
        """Change a ready version's approval status (one of
        :data:`~shipyard.entities.APPROVAL_STATUSES`), append the change to its history and
        audit it (``model.approval``), in one transaction.

        Raises:
            InvalidInput: An unknown status, or an empty comment.
            NotFound: No such model or version, or the version is not ready.
            Conflict: The version has that status already; nothing was written.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def list_approvals(self, name: str, version: int) -> list[ApprovalChange]:
        """The approval changes of ``name:version``, oldest first; [] when none.

        Raises:
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def record_promotion(
        self,
        name: str,
        version: int,
        environment: str,
        *,
        outcome: str,
        gates: Sequence[GateResult],
        reason: str | None,
        move_alias: bool,
        actor: Actor,
    ) -> PromotionRecord:
        """Store a promotion of a ready version into ``environment`` with its gates' results,
        and with ``move_alias`` point ``name@environment`` at it, in one transaction audited
        as ``model.promote`` (``model.promote.override`` for ``forced``,
        ``model.promote.refused`` for ``refused``) plus ``model.alias`` when the alias moves.

        Raises:
            InvalidInput: ``outcome`` is not promoted, forced or refused; ``move_alias`` with
                ``refused``; or ``forced`` without a reason.
            NotFound: No such model or version, or the version is not ready.
            Conflict: Concurrent writers kept creating the same alias; nothing was written.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def list_promotions(self, name: str, version: int | None = None) -> list[PromotionRecord]:
        """The promotion records of ``name`` (of one version when given), oldest first.

        Raises:
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def import_model_version(
        self,
        version: ModelVersion,
        *,
        approvals: Sequence[ApprovalChange],
        promotions: Sequence[PromotionRecord],
        actor: Actor,
    ) -> ModelVersion:
        """Register a version another catalog holds under the same name and number, ready,
        with its approval status, approval history and promotion records as they are there,
        in one transaction audited as ``model.import``. Its aliases are not copied.

        Raises:
            AlreadyExists: This catalog holds ``name:version`` already (any status); nothing
                was written.
            InvalidInput: A value the catalog cannot store.
            BackendUnavailable: The database cannot be reached or failed.
        """
