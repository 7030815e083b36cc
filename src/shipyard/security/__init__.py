"""Security: the audit chain's checks, API tokens and roles, PII tags, encryption at rest."""

from __future__ import annotations

from shipyard.security.audit import export_audit, verify_audit

__all__ = ["export_audit", "verify_audit"]
