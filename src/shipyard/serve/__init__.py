"""The inference server: a model version behind SageMaker-compatible HTTP routes.

Its HTTP error kinds and its hardened uvicorn (read deadlines, a ready hook) are public too:
the REST API server (:mod:`shipyard.server`) answers and listens the same way.
"""

from __future__ import annotations

from shipyard.serve._app import ShipyardServeApp, create_app
from shipyard.serve._auth import check_auth_mode
from shipyard.serve._endpoint import EndpointApp
from shipyard.serve._endpoint_serve import serve_endpoint
from shipyard.serve._errors import (
    HTTPError,
    MalformedBody,
    MethodNotAllowed,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from shipyard.serve._uvicorn import MAX_HEAD_BYTES, ReadyServer, deadline_protocol, uvicorn_config
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
    "MAX_HEAD_BYTES",
    "EndpointApp",
    "HTTPError",
    "MalformedBody",
    "MethodNotAllowed",
    "PayloadTooLarge",
    "ReadyServer",
    "ShipyardServeApp",
    "UnsupportedMediaType",
    "bind_socket",
    "check_auth_mode",
    "check_port",
    "create_app",
    "create_multi_app",
    "deadline_protocol",
    "find_free_port",
    "serve_endpoint",
    "serve_model",
    "serve_models",
    "uvicorn_config",
    "wait_until_ready",
]
