"""The OpenAPI parts of the Open Inference Protocol's routes (KServe v2) and of MLflow's
scoring payloads on /invocations."""

from __future__ import annotations

from typing import Any

from shipyard.serve._tensors import DECLARED_TYPES, NUMERIC_TYPES

__all__ = ["mlflow_payloads", "v2_paths", "v2_schemas"]

_DATATYPES = [*NUMERIC_TYPES, "BOOL", "BYTES"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": _json(_ref("V2Error"))}


_TENSOR_META: dict[str, Any] = {
    "type": "object",
    "required": ["name", "datatype", "shape"],
    "properties": {
        "name": {"type": "string"},
        "datatype": {"type": "string"},
        "shape": {"type": "array", "items": {"type": "integer"}},
    },
}

# The protocol's bodies that do not depend on the model.
_FIXED: dict[str, Any] = {
    "V2Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {"type": "string", "description": "What went wrong and what to do."},
            "kind": {"type": "string", "description": "Shipyard's error kind."},
            "details": {"type": "object"},
        },
    },
    "V2ModelMetadata": {
        "type": "object",
        "required": ["name", "versions", "platform", "inputs", "outputs"],
        "properties": {
            "name": {"type": "string"},
            "versions": {"type": "array", "items": {"type": "string"}},
            "platform": {"type": "string"},
            "inputs": {"type": "array", "items": _TENSOR_META},
            "outputs": {"type": "array", "items": _TENSOR_META},
        },
    },
    "V2InferResponse": {
        "type": "object",
        "required": ["model_name", "outputs"],
        "properties": {
            "model_name": {"type": "string"},
            "model_version": {"type": "string"},
            "id": {"type": "string"},
            "outputs": {
                "type": "array",
                "items": {
                    **_TENSOR_META,
                    "required": ["name", "datatype", "shape", "data"],
                    "properties": {**_TENSOR_META["properties"], "data": {"type": "array"}},
                },
            },
        },
    },
}


def v2_schemas(inputs: list[dict[str, Any]], outputs: list[str]) -> dict[str, Any]:
    """The protocol's bodies for a model with these signature ``inputs`` and ``outputs``."""
    names = [col["name"] for col in inputs]
    declared = ", ".join(f"{c['name']}: {DECLARED_TYPES[c['type']]}" for c in inputs)
    return {
        **_FIXED,
        "V2InferInput": {
            "type": "object",
            "description": f"One column of the batch: {declared} (any FP or INT type for a "
            "number). Values go under 'data' (a list, nulls for missing), or in the binary "
            "part of the body with parameters.binary_data_size (Triton's extension).",
            "required": ["name", "datatype", "shape"],
            "properties": {
                "name": {"enum": names},
                "datatype": {"enum": _DATATYPES},
                "shape": {
                    "type": "array",
                    "items": {"type": "integer", "minimum": 0},
                    "minItems": 1,
                    "maxItems": 2,
                    "description": "[n] or [n, 1]: n rows.",
                },
                "data": {"type": "array"},
                "parameters": {"type": "object"},
            },
        },
        "V2InferRequest": {
            "type": "object",
            "required": ["inputs"],
            "properties": {
                "id": {"type": "string"},
                "parameters": {"type": "object"},
                "inputs": {"type": "array", "items": _ref("V2InferInput"), "minItems": 1},
                "outputs": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {"name": {"enum": outputs}, "parameters": {}},
                    },
                },
            },
        },
    }


def v2_paths(names: list[str], version: str) -> dict[str, Any]:
    """The protocol's routes, for the model known by ``names`` at ``version``."""
    name = {"name": "model_name", "in": "path", "required": True, "schema": {"enum": names}}
    ver = {"name": "model_version", "in": "path", "required": True, "schema": {"enum": [version]}}
    health = {"description": "Yes.", "content": _json({"type": "object"})}
    paths: dict[str, Any] = {
        "/v2": _get("v2Server", "The server's metadata (Open Inference Protocol).", health),
        "/v2/health/live": _get("v2Live", "Liveness (Open Inference Protocol).", health),
        "/v2/health/ready": _get("v2Ready", "Readiness (Open Inference Protocol).", health),
    }
    meta = {"description": "The model's tensors.", "content": _json(_ref("V2ModelMetadata"))}
    infer = {
        "summary": "Score columns sent as tensors (Open Inference Protocol).",
        "requestBody": {"required": True, "content": _json(_ref("V2InferRequest"))},
        "responses": {
            "200": {
                "description": "score and decision.",
                "content": _json(_ref("V2InferResponse")),
            },
            "400": _error("The JSON or a binary tensor cannot be decoded."),
            "404": _error("No such model or version here."),
            "413": _error("Too many bytes or rows."),
            "415": _error("Unsupported Content-Type."),
            "422": _error("An unknown, missing or mistyped input, or inputs of other lengths."),
        },
    }
    for base, params, suffix in (
        ("/v2/models/{model_name}", [name], ""),
        ("/v2/models/{model_name}/versions/{model_version}", [name, ver], "Version"),
    ):
        paths[base] = _get(f"v2Model{suffix}", "The model's metadata.", meta, params)
        paths[f"{base}/ready"] = _get(f"v2ModelReady{suffix}", "Model readiness.", health, params)
        paths[f"{base}/infer"] = {
            "post": {**infer, "operationId": f"v2Infer{suffix}", "parameters": params}
        }
    return paths


def _get(
    operation: str, summary: str, ok: dict[str, Any], params: list[Any] | None = None
) -> dict[str, Any]:
    get: dict[str, Any] = {"summary": summary, "operationId": operation, "responses": {"200": ok}}
    if params:
        get["parameters"] = params
        get["responses"]["404"] = _error("No such model or version here.")
    return {"get": get}


def mlflow_payloads() -> list[dict[str, Any]]:
    """The /invocations bodies of MLflow's scoring server (each carries one of the keys)."""
    frame = {
        "type": "object",
        "required": ["data"],
        "additionalProperties": False,
        "properties": {
            "columns": {"type": "array", "items": _ref("ColumnName"), "minItems": 1},
            "data": {"type": "array", "items": {"type": "array"}, "minItems": 1},
            "index": {"type": "array"},
        },
        "description": "Without columns, the values are in signature order.",
    }
    params = {"type": "object", "maxProperties": 0, "description": "No model takes any."}
    rows = {"type": "array", "items": {"oneOf": [_ref("Row"), _ref("PositionalRow")]}}
    columns = {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": {"type": "array", "minItems": 1},
        "description": "{column: [values]}: one list per column, each as long as the others.",
    }
    one_row = {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": {"type": ["number", "string", "boolean", "null"]},
        "description": "{column: value}: one row.",
    }
    forms = [
        ("dataframe_split", frame),
        ("dataframe_records", {"type": "array", "items": _ref("Row"), "minItems": 1}),
        ("inputs", {"oneOf": [{**rows, "minItems": 1}, columns, one_row]}),
    ]
    return [
        {"type": "object", "required": [key], "properties": {key: schema, "params": params}}
        for key, schema in forms
    ]
