"""Which action of the role matrix each route needs, declared on the route itself.

A route says ``**needs("promote")``: the action goes into its OpenAPI operation
(``x-shipyard-action`` and the roles that may, ``x-shipyard-roles``), and
:func:`route_resolver` reads it back to tell the auth guard and the audit what a request is,
by matching method and path exactly as the router will. Every route documents the one error
body for each error status.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from starlette.routing import compile_path

from shipyard.security.roles import MATRIX, ROLES, allowed
from shipyard.server._errors import ERROR_RESPONSES

__all__ = [
    "ACTION_KEY",
    "RouteInfo",
    "describe_routes",
    "needs",
    "route_action",
    "route_resolver",
]

ACTION_KEY = "x-shipyard-action"
ROLES_KEY = "x-shipyard-roles"

Scope = MutableMapping[str, Any]

# Documents the bearer token in every operation of the OpenAPI document; the auth guard in
# front of the app checks it, so this never refuses anything itself.
_BEARER = HTTPBearer(auto_error=False, description="A token from `shipyard tokens create`.")


def needs(action: str, *, extra: dict[int | str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Keyword arguments of a route decorator: the role-matrix action the route needs, and
    the error answers it documents (``extra`` adds others, such as 304)."""
    if action not in MATRIX:
        raise ValueError(f"Unknown action {action!r}; the actions are {', '.join(MATRIX)}.")
    roles = [r for r in ROLES if allowed(r, action)]
    return {
        "openapi_extra": {ACTION_KEY: action, ROLES_KEY: roles},
        "responses": {**ERROR_RESPONSES, **(extra or {})},
        "dependencies": [Depends(_BEARER)],
    }


def route_action(route: APIRoute) -> str:
    """The action a route declared with :func:`needs`.

    Raises:
        ValueError: It declared none (every API route must).
    """
    action = (route.openapi_extra or {}).get(ACTION_KEY)
    if action is None:
        raise ValueError(f"The route {route.path} declares no action: add **needs(ACTION).")
    return str(action)


@dataclass(frozen=True)
class RouteInfo:
    """One API operation: its method, full path template, action and endpoint name."""

    method: str
    path: str
    action: str
    name: str
    regex: re.Pattern[str]


def describe_routes(routers: Iterable[APIRouter], prefix: str) -> list[RouteInfo]:
    """Every operation of ``routers`` mounted under ``prefix``, in the order they match."""
    out = []
    for router in routers:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                continue
            path = prefix + route.path  # a route's path holds its router's own prefix
            regex, _, _ = compile_path(path)
            for method in sorted(route.methods or ()):
                out.append(RouteInfo(method, path, route_action(route), route.name, regex))
    return out


def route_resolver(routes: list[RouteInfo]) -> Callable[[Scope], tuple[str, str] | None]:
    """``scope -> (action, route template)`` for the route that will serve a request, matched
    as the router matches (path template, then method); None when none serves it."""

    def resolve(scope: Scope) -> tuple[str, str] | None:
        path, method = scope["path"], scope["method"]
        for info in routes:
            if info.method == method and info.regex.match(path):
                return info.action, info.path
        return None

    return resolve
