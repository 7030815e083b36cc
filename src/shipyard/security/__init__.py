"""Security: the audit chain's checks, API tokens and the role matrix, PII tags, encryption."""

from __future__ import annotations

from shipyard.security.asgi import AuthGuard, BrowserLogin, TooManyAttempts
from shipyard.security.audit import export_audit, verify_audit
from shipyard.security.calls import AuditCalls
from shipyard.security.keys import rotate_encryption_key
from shipyard.security.roles import ACTIONS, ENVIRONMENTS, MATRIX, ROLES, allowed
from shipyard.security.tokens import (
    Authorizer,
    NewToken,
    authorize,
    create_token,
    list_tokens,
    revoke_token,
)

__all__ = [
    "ACTIONS",
    "ENVIRONMENTS",
    "MATRIX",
    "ROLES",
    "AuditCalls",
    "AuthGuard",
    "Authorizer",
    "BrowserLogin",
    "NewToken",
    "TooManyAttempts",
    "allowed",
    "authorize",
    "create_token",
    "export_audit",
    "list_tokens",
    "revoke_token",
    "rotate_encryption_key",
    "verify_audit",
]
