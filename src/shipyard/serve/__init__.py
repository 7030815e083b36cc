"""The inference server: a model version behind SageMaker-compatible HTTP routes."""

from __future__ import annotations

from shipyard.serve._app import ShipyardServeApp, create_app
from shipyard.serve._auth import check_auth_mode
from shipyard.serve._endpoint import EndpointApp
from shipyard.serve._endpoint_serve import serve_endpoint
from shipyard.serve.server import (
    bind_socket,
    check_port,
    create_multi_app,
    find_free_port,
    serve_model,
    serve_models,
    wait_until_ready,
)

__all__ = [
    "EndpointApp",
    "ShipyardServeApp",
    "bind_socket",
    "check_auth_mode",
    "check_port",
    "create_app",
    "create_multi_app",
    "find_free_port",
    "serve_endpoint",
    "serve_model",
    "serve_models",
    "wait_until_ready",
]
