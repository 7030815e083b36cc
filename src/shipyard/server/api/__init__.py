"""The REST API's routers, one module per room; :data:`ROUTERS` is what the app includes.

A router module holds ``router = APIRouter(tags=[ROOM])`` and thin routes: each parses its
parameters (typed, so FastAPI refuses bad ones with a 422 naming the field), calls one public
function of its room, and returns what it got. Each route declares the role-matrix action it
needs with ``**needs("read")``: the auth guard and the audit read it from there.
"""

from __future__ import annotations

from fastapi import APIRouter

from shipyard.server.api import (
    audit,
    datasets,
    endpoints,
    features,
    models,
    monitors,
    pipelines,
    runs,
    sql,
)

__all__ = ["ROUTERS"]

ROUTERS: tuple[APIRouter, ...] = (
    datasets.router,
    sql.router,
    features.router,
    runs.router,
    models.router,
    endpoints.router,
    monitors.router,
    pipelines.router,
    audit.router,
)
"""Every room's router, in the order the OpenAPI document lists them."""
