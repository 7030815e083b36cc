"""The OpenAPI 3.1 document of one served model, written out once at start-up.

It is built by hand from the model's signature rather than from pydantic models, because
the server deliberately has none on its request path (see ``_app``); the row schema names
every input column with its JSON type, so a client generator gets a typed row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shipyard.entities import ModelVersion
from shipyard.serve._openapi_features import entity_parameters, entity_schemas, feature_paths
from shipyard.serve._openapi_v2 import mlflow_payloads, v2_paths, v2_schemas

__all__ = ["openapi_document"]

_JSON_TYPES: dict[str, dict[str, Any]] = {
    "number": {"type": ["number", "null"]},
    "boolean": {"type": ["boolean", "null"]},
    "string": {"type": ["string", "null"]},
    "datetime": {"type": ["string", "null"], "format": "date-time"},
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": _json(_ref("Error"))}


def openapi_document(
    version: ModelVersion,
    signature: dict[str, Any],
    *,
    entity: dict[str, Any] | None = None,
    feature_routes: bool = False,
    v2_names: Sequence[str] = (),
) -> dict[str, Any]:
    """The OpenAPI document describing the routes, bodies and errors for this model.

    With ``entity`` (the model's scoring-by-entity contract) /v1/predict and /invocations
    also take entity requests; with ``feature_routes`` the feature-store routes are listed;
    with ``v2_names`` (the names the model answers to) the Open Inference Protocol's.
    """
    inputs = signature.get("inputs", [])
    problem = signature.get("problem_type", "binary")
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": f"Shipyard model {version.ref}",
            "version": str(version.version),
            "description": f"Inference endpoint for the {problem} model {version.ref}. "
            "Every error answers with the Error body and a 4xx status.",
        },
        "paths": _paths([col["name"] for col in inputs]),
        "components": {"schemas": {**_model_schemas(inputs, problem), **_SCHEMAS}},
    }
    paths, schemas = document["paths"], document["components"]["schemas"]
    if entity is not None:
        schemas.update(entity_schemas(entity))
        for route in ("/v1/predict", "/invocations"):
            post = paths[route]["post"]
            content = post["requestBody"]["content"]["application/json"]
            content["schema"] = {"oneOf": [content["schema"], _ref("EntityRequest")]}
            post["parameters"] = [*post.get("parameters", []), *entity_parameters()]
            post["responses"]["503"] = _error("The online store cannot be reached.")
    if v2_names:
        outputs = ["score"] if problem == "regression" else ["score", "decision"]
        paths.update(v2_paths(list(v2_names), str(version.version)))
        schemas.update(v2_schemas(inputs, outputs))
    if feature_routes:
        extra_paths, extra_schemas = feature_paths()
        paths.update(extra_paths)
        schemas.update(extra_schemas)
    return document


def _model_schemas(inputs: list[dict[str, Any]], problem: str) -> dict[str, Any]:
    """The schemas that depend on the model: its row, and what a prediction holds."""
    names = [col["name"] for col in inputs]
    row = {
        "type": "object",
        "description": "One row: a value per input column (extra keys are ignored).",
        "properties": {col["name"]: dict(_JSON_TYPES[col["type"]]) for col in inputs},
        "required": names,
    }
    if problem == "multiclass":
        score: dict[str, Any] = {
            "type": "object",
            "additionalProperties": {"type": "number"},
            "description": "The probability of each class, keyed by class label.",
        }
    elif problem == "binary":
        score = {"type": "number", "description": "P(positive class)."}
    elif problem == "anomaly":
        score = {
            "type": "number",
            "description": "The anomaly score in [0, 1]; higher is more anomalous.",
        }
    else:
        score = {"type": "number", "description": "The predicted value."}
    return {
        "Row": row,
        "PositionalRow": {
            "type": "array",
            "description": f"Values in signature order: {', '.join(names)}.",
            "prefixItems": [dict(_JSON_TYPES[col["type"]]) for col in inputs],
            "minItems": len(names),
            "maxItems": len(names),
        },
        "ColumnName": {"enum": names, "description": "An input column of the model."},
        "Prediction": {
            "type": "object",
            "required": ["score"] if problem == "regression" else ["score", "decision"],
            "properties": {
                "score": score,
                "decision": {
                    "description": "The label at the model's threshold (binary), the likeliest "
                    "class (multiclass) or whether the row is an anomaly (true at the "
                    "threshold, anomaly); regression models answer no decision."
                },
                "explanation": _ref("Explanation"),
            },
        },
    }


# The schemas every model's document shares.
_SCHEMAS: dict[str, Any] = {
    "PredictRequest": {
        "type": "object",
        "required": ["rows"],
        "properties": {"rows": {"type": "array", "items": _ref("Row"), "minItems": 1}},
    },
    "InvocationRequest": {
        # anyOf, not oneOf: a body with both "instances" and "columns" + "data" is read by
        # its instances, as SageMaker's containers do.
        "anyOf": [
            {
                "type": "object",
                "required": ["instances"],
                "properties": {
                    "instances": {
                        "type": "array",
                        "items": {"oneOf": [_ref("Row"), _ref("PositionalRow")]},
                        "minItems": 1,
                    }
                },
            },
            {
                "type": "array",
                "items": {"oneOf": [_ref("Row"), _ref("PositionalRow")]},
                "minItems": 1,
            },
            {
                "type": "object",
                "required": ["columns", "data"],
                "properties": {
                    "columns": {"type": "array", "items": _ref("ColumnName"), "minItems": 1},
                    "data": {"type": "array", "items": {"type": "array"}, "minItems": 1},
                },
            },
            *mlflow_payloads(),
        ]
    },
    "Explanation": {
        "type": "object",
        "description": "With ?explain=true: base + the sum of every feature's "
        "contribution = raw_score (only the top ones are listed).",
        "required": ["space", "base", "raw_score", "contributions", "explained_by", "exact"],
        "properties": {
            "space": {"enum": ["log-odds", "margin", "value", "probability"]},
            "base": {"type": "number"},
            "raw_score": {"type": "number"},
            "contributions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["feature", "value", "contribution"],
                    "properties": {
                        "feature": {"type": "string"},
                        "value": {},
                        "contribution": {"type": "number"},
                    },
                },
            },
            "explained_by": {"type": "string", "description": "The family explaining."},
            "exact": {
                "type": "boolean",
                "description": "False when an ensemble member stands in for the ensemble.",
            },
        },
    },
    "PredictResponse": {
        "type": "object",
        "required": ["model", "predictions", "unseen"],
        "properties": {
            "model": {"type": "string", "description": "name:version that scored."},
            "predictions": {"type": "array", "items": _ref("Prediction")},
            "unseen": {
                "type": "object",
                "additionalProperties": {"type": "integer"},
                "description": "Per column, how many values were categories never seen "
                "in training; they were scored as missing.",
            },
        },
    },
    "ModelInfo": {
        "type": "object",
        "required": ["name", "version", "signature", "metrics"],
        "properties": {
            "name": {"type": "string"},
            "version": {"type": "integer"},
            "ref": {"type": "string"},
            "problem_type": {"type": "string"},
            "signature": {"type": "object"},
            "metrics": {"type": "object"},
            "aliases": {"type": "array", "items": {"type": "string"}},
            "created_at": {"type": "string", "format": "date-time"},
        },
    },
    "Error": {
        "type": "object",
        "required": ["error", "message", "details"],
        "properties": {
            "error": {"type": "string", "description": "The error kind, e.g. InvalidInput."},
            "message": {"type": "string"},
            "details": {"type": "object"},
        },
    },
}


# The query parameters of /v1/predict.
_PREDICT_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "explain",
        "in": "query",
        "required": False,
        "schema": {"type": "boolean", "default": False},
        "description": (
            "Add each row's top feature contributions: base + contributions "
            "= raw_score (log-odds, margin, value, or an ensemble's "
            "probability). 501 for a family that cannot explain (forests)."
        ),
    },
    {
        "name": "top",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 5},
        "description": "How many contributions per row, largest first; "
        "only with explain=true (422 without it).",
    },
]


def _paths(names: list[str]) -> dict[str, Any]:
    """The routes: health, SageMaker's invocations, predict (with explanations), model."""
    scoring_errors = {
        "400": _error("The body is not valid JSON or UTF-8 CSV."),
        "413": _error("The body has too many bytes or rows (or rows to explain)."),
        "415": _error("Unsupported Content-Type."),
        "422": _error("A column is missing or has the wrong type, or there are no rows."),
    }
    ok = {"description": "Scores and decisions.", "content": _json(_ref("PredictResponse"))}
    paths = {
        "/ping": {
            "get": {
                "summary": "Health check (SageMaker): 200 once the model is loaded.",
                "operationId": "ping",
                "responses": {"200": {"description": "Ready.", "content": _json({})}},
            }
        },
        "/invocations": {
            "post": {
                "summary": "Score rows (SageMaker's contract, and MLflow's scoring payloads): "
                "JSON or CSV.",
                "operationId": "invocations",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": _ref("InvocationRequest")},
                        "text/csv": {
                            "schema": {
                                "type": "string",
                                "minLength": 1,
                                "pattern": r"\S",
                                "description": "At least one row, values in signature order, "
                                f"with or without a header line: {','.join(names)}.",
                            }
                        },
                    },
                },
                "responses": {"200": ok, **scoring_errors},
            }
        },
        "/v1/predict": {
            "post": {
                "summary": "Score JSON rows.",
                "operationId": "predict",
                "parameters": _PREDICT_PARAMETERS,
                "requestBody": {"required": True, "content": _json(_ref("PredictRequest"))},
                "responses": {
                    "200": ok,
                    **scoring_errors,
                    "501": _error("This model's family cannot explain single predictions."),
                },
            }
        },
        "/v1/model": {
            "get": {
                "summary": "The served model: name, version, signature, metrics.",
                "operationId": "model",
                "responses": {
                    "200": {"description": "The model.", "content": _json(_ref("ModelInfo"))}
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This document.",
                "operationId": "openapi",
                "responses": {"200": {"description": "OpenAPI 3.1.", "content": _json({})}},
            }
        },
    }
    return paths
