"""The audit trail and the feature store's definitions through the REST API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shipyard.client._decode import decode
from shipyard.client._http import HttpBase, segment
from shipyard.entities import AuditEvent, FeatureDefinition

if TYPE_CHECKING:
    from shipyard.catalog import ChainReport
    from shipyard.features import FeatureGroup

__all__ = ["AuditMixin", "FeaturesMixin"]


class AuditMixin(HttpBase):
    def list_events(self, limit: int = 100, **filters: Any) -> list[AuditEvent]:
        """The newest audit events first, at most ``limit`` (filters: actor, action or its
        prefix, object_type, object_id, face, since, until)."""
        return [decode(AuditEvent, e) for e in self._walk("/audit", limit, **filters)]

    def verify_audit(self) -> ChainReport:
        """Walk the server's audit chain; the report lists every break."""
        from shipyard.catalog import ChainBreak, ChainReport

        answer = self._get("/audit/verify")
        breaks = tuple(
            ChainBreak(b["event_id"], b["position"], b["reason"]) for b in answer["breaks"]
        )
        return ChainReport(answer["events"], answer["head"], breaks)


class FeaturesMixin(HttpBase):
    def list_feature_definitions(
        self, kind: str, name: str | None = None
    ) -> list[FeatureDefinition]:
        """Every version of ``name`` (``kind``: entity or group), or the latest of each."""
        plural = "groups" if kind == "group" else "entities"
        if name is None:
            items = self._walk(f"/features/{plural}")
        else:
            items = self._walk(f"/features/{plural}/{segment(name)}/versions", order="asc")
        return [decode(FeatureDefinition, d) for d in items]

    def list_groups(self) -> list[FeatureGroup]:
        """The latest version of every feature group, by name."""
        from shipyard.features import FeatureGroup

        return [
            FeatureGroup.from_dict(d.definition, version=d.version)
            for d in self.list_feature_definitions("group")
        ]

    def get_group(self, name: str, version: int | None = None) -> FeatureGroup:
        """The feature group ``name`` (latest version when None)."""
        from shipyard.features import FeatureGroup

        path = f"/features/groups/{segment(name)}" + (f"/versions/{version}" if version else "")
        stored = decode(FeatureDefinition, self._get(path))
        return FeatureGroup.from_dict(stored.definition, version=stored.version)
