"""Studio's pages: one module per room, each a FastAPI router; :data:`PAGES` lists them."""

from __future__ import annotations

from fastapi import APIRouter

from shipyard.server.studio.pages import (
    audit,
    datasets,
    endpoints,
    experiments,
    features,
    home,
    models,
    monitors,
    pipelines,
)

__all__ = ["PAGES"]

PAGES: list[APIRouter] = [
    home.router,
    datasets.router,
    features.router,
    experiments.router,
    models.router,
    endpoints.router,
    monitors.router,
    pipelines.router,
    audit.router,
]
"""Every room's page router, in navigation order."""
