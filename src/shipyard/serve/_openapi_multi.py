"""The OpenAPI document of the multi-model server: the same routes for every model, whose
inputs differ from one model to the next (``/models/{model}/openapi.json`` has each one's)."""

from __future__ import annotations

from typing import Any

import shipyard

__all__ = ["multi_document"]

_MODEL = {
    "name": "model",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": r"^[A-Za-z][A-Za-z0-9_\-]*(:\d+|@[a-z][a-z0-9_\-]*)?$"},
    "description": "NAME:VERSION, NAME@ALIAS or NAME (the latest version).",
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _errors(*codes: str) -> dict[str, Any]:
    error = {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string"}, "details": {"type": "object"}},
    }
    return {code: {"description": "An error.", "content": _json(error)} for code in codes}


def _get(operation: str, summary: str, params: list[Any] | None = None) -> dict[str, Any]:
    get: dict[str, Any] = {
        "summary": summary,
        "operationId": operation,
        "responses": {"200": {"description": "OK.", "content": _json({"type": "object"})}},
    }
    if params:
        get["parameters"] = params
        get["responses"].update(_errors("404", "422"))
    return {"get": get}


def _post(operation: str, summary: str, params: list[Any]) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "operationId": operation,
            "parameters": params,
            "requestBody": {"required": True, "content": _json({"type": ["object", "array"]})},
            "responses": {
                "200": {"description": "Scored.", "content": _json({"type": "object"})},
                **_errors("400", "404", "413", "415", "422"),
            },
        }
    }


def multi_document() -> dict[str, Any]:
    """The routes of ``shipyard serve --multi``."""
    version = {"name": "version", "in": "path", "required": True, "schema": {"type": "integer"}}
    v2_name = {**_MODEL, "name": "model"}
    paths: dict[str, Any] = {
        "/ping": _get("ping", "Health check: 200 while the server runs."),
        "/models": _get("models", "The loaded model versions: footprint, load time, last use."),
        "/models/{model}/invocations": _post(
            "invocations", "Score rows with the model (SageMaker's and MLflow's bodies).", [_MODEL]
        ),
        "/models/{model}/v1/predict": _post("predict", 'Score {"rows": [...]}.', [_MODEL]),
        "/models/{model}/v1/model": _get("model", "The model's signature and metrics.", [_MODEL]),
        "/v2": _get("v2Server", "Server metadata (Open Inference Protocol)."),
        "/v2/health/live": _get("v2Live", "Liveness."),
        "/v2/health/ready": _get("v2Ready", "Readiness."),
        "/v2/models/{model}": _get("v2Model", "The model's tensors.", [v2_name]),
        "/v2/models/{model}/ready": _get("v2ModelReady", "Loads the model.", [v2_name]),
        "/v2/models/{model}/infer": _post("v2Infer", "Score tensors.", [v2_name]),
        "/v2/models/{model}/versions/{version}/infer": _post(
            "v2InferVersion", "Score tensors with a version.", [v2_name, version]
        ),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Shipyard multi-model server",
            "version": shipyard.__version__,
            "description": "Every model version of the project; each loads on first use and "
            "is unloaded least recently used. /models/{model}/openapi.json describes one "
            "model's inputs.",
        },
        "paths": paths,
    }
