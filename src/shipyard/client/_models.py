"""Models, their reports and promotion through the REST API (``server/api/models.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shipyard.client._decode import decode
from shipyard.client._http import HttpBase, segment
from shipyard.entities import ModelVersion

if TYPE_CHECKING:
    from shipyard.entities import ApprovalChange
    from shipyard.registry import Lineage, ModelHistory, PromotionResult

__all__ = ["ModelsMixin"]


class ModelsMixin(HttpBase):
    def _model_path(self, ref: str) -> str:
        """The API path of the version ``ref`` names (an alias or "latest" resolved first)."""
        from shipyard.catalog.refs import parse_model_ref

        parsed = parse_model_ref(ref)
        version = parsed.version or self.resolve_model(ref).version
        return f"/models/{segment(parsed.name)}/versions/{version}"

    def list_models(self) -> list[ModelVersion]:
        """The latest ready version of each model, with its aliases."""
        return [decode(ModelVersion, v) for v in self._walk("/models")]

    def list_versions(
        self, name: str | None = None, *, include_pending: bool = False
    ) -> list[ModelVersion]:
        """Model versions, oldest first (by name, then version), as the local listing."""
        names = [name] if name is not None else [m.name for m in self.list_models()]
        out: list[ModelVersion] = []
        for each in names:
            path = f"/models/{segment(each)}/versions"
            flag = "true" if include_pending else None
            out += [
                decode(ModelVersion, v) for v in self._walk(path, order="asc", include_pending=flag)
            ]
        return out

    def resolve_model(self, ref: str) -> ModelVersion:
        """The version ``ref`` names: ``fraud`` (latest), ``fraud:3`` or ``fraud@prod``."""
        from shipyard.catalog.refs import parse_model_ref

        parsed = parse_model_ref(ref)
        name = segment(parsed.name)
        if parsed.alias is not None:
            path = f"/models/{name}/aliases/{segment(parsed.alias)}"
        elif parsed.version is not None:
            path = f"/models/{name}/versions/{parsed.version}"
        else:
            path = f"/models/{name}"
        result: ModelVersion = decode(ModelVersion, self._get(path))
        return result

    def promote(
        self, ref: str, environment: str, *, force: bool = False, reason: str | None = None
    ) -> PromotionResult:
        """Run ``environment``'s gates and point ``name@environment`` at the version ``ref``
        names; a failed gate raises :class:`~shipyard.errors.Conflict` naming each one."""
        from shipyard.registry import PromotionResult

        body = {"environment": environment, "force": force, "reason": reason}
        answer = self._post(f"{self._model_path(ref)}/promote", body)
        result: PromotionResult = decode(PromotionResult, answer)
        return result

    def model_history(self, ref: str) -> ModelHistory:
        """The version, its approval changes and its promotion records."""
        from shipyard.registry import ModelHistory

        answer = self._get(f"{self._model_path(ref)}/history")
        result: ModelHistory = decode(ModelHistory, answer)
        return result

    def approve_model(self, ref: str, *, comment: str) -> ApprovalChange:
        """Approve the version ``ref`` names, with a comment."""
        return self._approval(ref, "approve", comment)

    def reject_model(self, ref: str, *, comment: str) -> ApprovalChange:
        """Reject the version ``ref`` names, with a comment."""
        return self._approval(ref, "reject", comment)

    def _approval(self, ref: str, verb: str, comment: str) -> ApprovalChange:
        from shipyard.entities import ApprovalChange

        answer = self._post(f"{self._model_path(ref)}/{verb}", {"comment": comment})
        result: ApprovalChange = decode(ApprovalChange, answer)
        return result

    def lineage(self, ref: str) -> Lineage:
        """Where the version came from and which environments serve it."""
        from shipyard.registry import Lineage

        result: Lineage = decode(Lineage, self._get(f"{self._model_path(ref)}/lineage"))
        return result

    def load_evaluation(self, ref: str) -> dict[str, Any]:
        """The evaluation report of the version ``ref`` names."""
        payload: dict[str, Any] = self._get(f"{self._model_path(ref)}/evaluation")
        return payload

    def evaluation_html(self, ref: str) -> bytes:
        """The evaluation report's HTML page."""
        return self._bytes(f"{self._model_path(ref)}/evaluation/html")

    def evaluation_url(self, ref: str) -> str:
        """Where the evaluation report's page is served (needs the token)."""
        return f"{self.url}/api/v1{self._model_path(ref)}/evaluation/html"

    def load_baseline(self, ref: str) -> dict[str, Any]:
        """The monitoring baseline of the version ``ref`` names."""
        payload: dict[str, Any] = self._get(f"{self._model_path(ref)}/baseline")
        return payload

    def create_baseline(self, ref: str) -> dict[str, Any]:
        """Make (or remake) the version's baseline from its training data, on the server."""
        payload: dict[str, Any] = self._post(f"{self._model_path(ref)}/baseline")
        return payload
