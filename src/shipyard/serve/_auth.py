"""Which inference-server routes need which action of the role matrix (``--auth required``)."""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from shipyard.catalog.refs import parse_model_ref
from shipyard.errors import InvalidInput
from shipyard.security import AuditCalls, AuthGuard, Authorizer
from shipyard.security.roles import ENVIRONMENTS

if TYPE_CHECKING:
    from shipyard.entities import Actor
    from shipyard.project import Project

__all__ = [
    "AUTH_MODES",
    "OPEN_PATHS",
    "ROUTE_ACTIONS",
    "check_auth_mode",
    "guard",
    "protect",
    "serving_env",
    "watch",
]

AUTH_MODES = ("none", "required")

OPEN_PATHS = frozenset(
    {"/ping", "/healthz", "/openapi.json", "/v2", "/v2/health/live", "/v2/health/ready"}
)
"""Health checks, the schema and the server's metadata stay open: a load balancer probes them
without a token."""

ROUTE_ACTIONS = MappingProxyType(
    {
        "/invocations": "predict",
        "/v1/predict": "predict",
        "/v1/model": "predict",
        "/metrics": "read",
        "/v1/features/online": "predict",
        # pushing events changes the online store and the offline log
        "/v1/features/*/push": "ingest",
        # the Open Inference Protocol: a model's metadata, readiness and infer
        "/v2/models/*": "predict",
        # the multi-model server: what is loaded, each model's metrics, its routes
        "/models": "read",
        "/models/*/metrics": "read",
        "/models/*": "predict",
    }
)
"""Route (``*``: one path segment or more) -> action; any other path needs ``read`` (a route
added later is never open)."""


def check_auth_mode(auth: str) -> None:
    """Refuse an ``--auth`` value other than ``none`` or ``required``.

    Raises:
        InvalidInput: Any other value.
    """
    if auth not in AUTH_MODES:
        raise InvalidInput(
            f"The 'auth' parameter of serve must be one of {', '.join(AUTH_MODES)}. "
            f"Got {auth!r} instead.",
            details={"auth": auth},
        )


def serving_env(project: Project, ref: str) -> str:
    """The environment a server of ``ref`` acts in: the alias when it names one
    (``fraud@prod``), else the ``env`` setting."""
    alias = parse_model_ref(ref).alias
    return alias if alias in ENVIRONMENTS else project.settings.env


def guard(app: Any, project: Project, env: str) -> AuthGuard:
    """``app`` behind token checks for ``env``, denials audited in ``project``'s catalog."""

    def audit(action: str, actor: Actor, details: dict[str, Any]) -> None:
        project.catalog.record_event(
            action, "route", details["route"], actor=actor, details=details
        )

    settings = project.settings
    return AuthGuard(
        app,
        Authorizer(project.catalog, cache_seconds=settings.auth_cache_seconds),
        env=env,
        routes=ROUTE_ACTIONS,
        open_paths=OPEN_PATHS,
        audit=audit,
        max_failures=settings.auth_max_failures,
    )


def _changing_route(scope: Any) -> tuple[str, str] | None:
    """The calls of the inference server that change something: a push of feature events."""
    from shipyard.serve._features import PUSH_ROUTE, push_group

    if scope["method"] == "POST" and push_group(scope["path"]):
        return ROUTE_ACTIONS["/v1/features/*/push"], PUSH_ROUTE
    return None


def watch(app: Any, project: Project) -> AuditCalls:
    """``app`` with each call that changes something (see :func:`_changing_route`) audited
    in ``project``'s catalog as ``serve.call``, with its outcome; goes inside the guard, which
    audits denials itself."""

    def record(action: str, actor: Actor, object_id: str, details: dict[str, Any]) -> None:
        project.catalog.record_event(action, "route", object_id, actor=actor, details=details)

    return AuditCalls(app, _changing_route, record, face="serve")


def protect(app: Any, project: Project, ref: str, auth: str) -> Any:
    """``app`` as ``serve --auth`` asks: guarded (``required``) or not (``none``); its calls
    that change something audited either way.

    Raises:
        InvalidInput: ``auth`` is neither.
    """
    check_auth_mode(auth)
    watched = watch(app, project)
    return guard(watched, project, serving_env(project, ref)) if auth == "required" else watched
