"""Roles, environments and the role matrix: which role may do which action. Written once, as
data; :func:`shipyard.security.authorize` and every face read it from here."""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["ACTIONS", "ENVIRONMENTS", "MATRIX", "ROLES", "allowed"]

ROLES = ("predict-only", "viewer", "data-scientist", "deployer", "admin")
"""Every role, least privileged first."""

ENVIRONMENTS = ("dev", "staging", "prod")
"""The environments a token can be scoped to; ``all`` scopes it to every one."""

ALL_ENVIRONMENTS = "all"

_EVERYONE = frozenset(ROLES)
_READERS = _EVERYONE - {"predict-only"}

MATRIX: MappingProxyType[str, frozenset[str]] = MappingProxyType(
    {
        # score with a model: inference server /invocations, /v1/predict, /v1/model
        "predict": _EVERYONE,
        # read metadata, reports, metrics: datasets, runs, models, monitors, /metrics
        "read": _READERS,
        # make dataset versions, profiles, feature materializations
        "ingest": frozenset({"data-scientist", "admin"}),
        # run training and tuning jobs
        "train": frozenset({"data-scientist", "admin"}),
        # register a model version
        "register": frozenset({"data-scientist", "deployer", "admin"}),
        # move an alias (dev/staging/prod) to a version
        "promote": frozenset({"deployer", "admin"}),
        # approve or reject a model version
        "approve": frozenset({"deployer", "admin"}),
        # create, change or delete an endpoint
        "deploy": frozenset({"deployer", "admin"}),
        # start a pipeline run, resume a failed one (its steps act with the server's rights, so a
        # pipeline that promotes is a deployer's act, through the same gates as anyone's)
        "pipeline": frozenset({"deployer", "admin"}),
        # run a monitor now, acknowledge its alerts
        "monitor": frozenset({"data-scientist", "deployer", "admin"}),
        # read the audit trail (who changed what, from where) and check its chain
        "audit": frozenset({"deployer", "admin"}),
        # tokens, keys, garbage collection, the audit trail's export
        "admin": frozenset({"admin"}),
    }
)
"""Action -> the roles allowed to do it (in any environment the token is scoped to)."""

ACTIONS = tuple(MATRIX)


def allowed(role: str, action: str) -> bool:
    """Whether ``role`` may do ``action`` per :data:`MATRIX` (unknown names: no)."""
    return role in MATRIX.get(action, frozenset())
